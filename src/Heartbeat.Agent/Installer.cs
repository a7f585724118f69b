using System.Xml.Linq;

namespace Heartbeat.Agent;

internal enum InitSystem
{
    Systemd,
    Launchd,
}

// Where the agent goes. System: a system service (as root) rather than one of this user's. Prefix: its binary goes to
// PREFIX/bin/heartbeat. Root: a staging root that every file is written under while the files name the paths they will
// have on the target, as package builders' DESTDIR; no service manager is told.
internal sealed record InstallTarget(InitSystem Init, bool System, string Home, string Prefix, string? Root)
{
    public static string DefaultPrefix(bool system, string home) => system ? "/usr/local" : Path.Combine(home, ".local");

    public string Binary => Path.Combine(Prefix, "bin", AgentCommand.Name);

    public string Staged(string path) => Root is null ? path : Path.Join(Root, path);
}

// Installs the agent to start at boot: its binary copied to PREFIX/bin, then a systemd service on Linux (a sandboxed
// system service with DynamicUser=yes as root, a user service otherwise) or a launchd agent on macOS (a daemon as
// root). A token goes into a file only its owner can read, not onto the command line, which every user sees in ps.
internal static class Installer
{
    public const string ServiceName = "heartbeat-agent";
    public const string LaunchdLabel = "com.heartbeat.agent";

    private const string MaskedToken = "(the --token value, hidden)";

    // A system service cannot run what is under these: PrivateTmp=yes gives it a /tmp of its own, ProtectHome=yes hides
    // the homes, and temporary directories are emptied at boot anyway.
    private static readonly string[] TemporaryDirectories = ["/tmp", "/var/tmp", "/dev/shm"];
    private static readonly string[] HomeDirectories = ["/home", "/root", "/run/user"];

    public static InitSystem Detect() => OperatingSystem.IsMacOS() ? InitSystem.Launchd : InitSystem.Systemd;

    // self: the agent's own file, or null when it runs from a build folder and is no single file to copy.
    public static InstallPlan PlanInstall(InstallTarget target, string? self, IReadOnlyList<string> arguments, string? token)
    {
        if (Refusal(target, self) is { } problem)
        {
            return new InstallPlan([], problem);
        }

        List<string> command = [target.Binary, .. arguments];
        List<InstallStep> steps = [new CopyBinary(self!, target.Staged(target.Binary))];
        if (target.Init == InitSystem.Launchd)
        {
            steps.Add(Plist(target, command, token));
            steps.Add(new RunCommand(["launchctl", "load", "-w", PlistPath(target)]));
            return new InstallPlan(steps, ManagerAbsent: ManagerAbsent(target));
        }

        var (unit, environment) = SystemdPaths(target);
        if (token is not null)
        {
            steps.Add(new WriteFile(target.Staged(environment), $"HEARTBEAT_TOKEN={token}\n", $"HEARTBEAT_TOKEN={MaskedToken}\n", Private: true));
        }

        var text = SystemdUnit(target, command, environment);
        steps.Add(new WriteFile(target.Staged(unit), text, text, Private: false));
        steps.Add(new RunCommand([.. Systemctl(target), "daemon-reload"]));
        steps.Add(new RunCommand([.. Systemctl(target), "enable", "--now", $"{ServiceName}.service"]));
        return new InstallPlan(steps, ManagerAbsent: ManagerAbsent(target));
    }

    // Stops the service and removes what install wrote, whether or not the service manager is there to be told.
    public static InstallPlan PlanUninstall(InstallTarget target)
    {
        if (target.Init == InitSystem.Launchd)
        {
            var plist = PlistPath(target);
            return new InstallPlan(
                [new RunCommand(["launchctl", "unload", "-w", plist], MayFail: true), new RemoveFile(target.Staged(plist)), new RemoveFile(target.Staged(target.Binary))],
                ManagerAbsent: ManagerAbsent(target));
        }

        var (unit, environment) = SystemdPaths(target);
        return new InstallPlan(
            [
                new RunCommand([.. Systemctl(target), "disable", "--now", $"{ServiceName}.service"], MayFail: true),
                new RemoveFile(target.Staged(unit)), new RemoveFile(target.Staged(environment), EmptyDirectory: true), new RemoveFile(target.Staged(target.Binary)),
                new RunCommand([.. Systemctl(target), "daemon-reload"], MayFail: true),
            ],
            ManagerAbsent: ManagerAbsent(target));
    }

    // The system unit runs in a sandbox of its own (systemd-analyze security rates it 1.1); the agent only reads its
    // boot id and sends HTTP(S). A user's service manager cannot set up most of that sandbox, so a user unit has none.
    private static string SystemdUnit(InstallTarget target, IReadOnlyList<string> command, string environment)
    {
        var sandbox = target.System ? """

            DynamicUser=yes
            UMask=0077
            NoNewPrivileges=yes
            CapabilityBoundingSet=
            AmbientCapabilities=
            ProtectSystem=strict
            ProtectHome=yes
            PrivateTmp=yes
            PrivateDevices=yes
            PrivateUsers=yes
            PrivateMounts=yes
            ProtectKernelTunables=yes
            ProtectKernelModules=yes
            ProtectKernelLogs=yes
            ProtectControlGroups=yes
            ProtectClock=yes
            ProtectHostname=yes
            ProtectProc=invisible
            RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
            RestrictNamespaces=yes
            RestrictRealtime=yes
            RestrictSUIDSGID=yes
            LockPersonality=yes
            RemoveIPC=yes
            SystemCallArchitectures=native
            SystemCallFilter=@system-service
            SystemCallFilter=~@privileged @resources
            SystemCallErrorNumber=EPERM
            # No MemoryDenyWriteExecute=yes: a single-file build runs on .NET's JIT, which writes the code it then runs.
            """ : string.Empty;
        return $"""
            # Written by '{AgentCommand.Name} install'; '{AgentCommand.Name} uninstall' stops it and removes it, {environment} and {target.Binary}.
            [Unit]
            Description=Heartbeat agent: tells the heartbeat server this machine is alive
            After=network-online.target
            Wants=network-online.target

            [Service]
            Type=simple
            ExecStart={string.Join(' ', command.Select(QuoteForSystemd))}
            # HEARTBEAT_TOKEN=… for a server that wants one: in a file only its owner reads, not on the command line, which ps shows.
            EnvironmentFile=-{environment}
            Restart=always
            RestartSec=10{sandbox}

            [Install]
            WantedBy={(target.System ? "multi-user.target" : "default.target")}

            """;
    }

    private static WriteFile Plist(InstallTarget target, IReadOnlyList<string> command, string? token)
    {
        var log = target.System ? "/var/log/heartbeat-agent.log" : Path.Combine(target.Home, "Library", "Logs", "heartbeat-agent.log");
        var dict = new XElement("dict",
            new XElement("key", "Label"), new XElement("string", LaunchdLabel),
            new XElement("key", "ProgramArguments"), new XElement("array", command.Select(a => new XElement("string", a))),
            new XElement("key", "RunAtLoad"), new XElement("true"),
            new XElement("key", "KeepAlive"), new XElement("true"),
            new XElement("key", "StandardErrorPath"), new XElement("string", log));
        if (token is not null)
        {
            dict.Add(new XElement("key", "EnvironmentVariables"), new XElement("dict", new XElement("key", "HEARTBEAT_TOKEN"), new XElement("string", token)));
        }

        var plist = new XDocument(
            new XDeclaration("1.0", "UTF-8", null),
            new XDocumentType("plist", "-//Apple//DTD PLIST 1.0//EN", "http://www.apple.com/DTDs/PropertyList-1.0.dtd", null),
            new XElement("plist", new XAttribute("version", "1.0"), dict));
        var content = plist.Declaration + Environment.NewLine + plist.ToString() + Environment.NewLine;
        var shown = token is null ? content : content.Replace(new XText(token).ToString(), MaskedToken, StringComparison.Ordinal);
        return new WriteFile(target.Staged(PlistPath(target)), content, shown, Private: token is not null);
    }

    // Why nothing may be installed: checked before anything is written, so that a refused install leaves nothing behind.
    private static string? Refusal(InstallTarget target, string? self)
    {
        if (self is null)
        {
            return "this heartbeat runs from a build folder (heartbeat.dll beside it), not as one file that can be copied; "
                + "install a published one (deploy/publish.sh builds dist/RID/heartbeat).";
        }

        var binary = target.Binary;
        if (Under(binary, [.. TemporaryDirectories, Path.GetTempPath()]) is { } temporary)
        {
            return $"--prefix {target.Prefix}: {binary} would be under {temporary}, which is emptied at boot{(target.System ? " and which a system service does not see (PrivateTmp=yes)" : string.Empty)}; "
                + $"choose another --prefix (default: {InstallTarget.DefaultPrefix(target.System, target.Home)}).";
        }

        if (target.System && Under(binary, [.. HomeDirectories, target.Home]) is { } home)
        {
            return $"--prefix {target.Prefix}: {binary} would be under {home}, which a system service does not see (ProtectHome=yes); "
                + "choose another --prefix (default: /usr/local).";
        }

        return null;
    }

    private static string? Under(string path, IEnumerable<string> directories) => directories
        .Select(d => Path.TrimEndingDirectorySeparator(d))
        .FirstOrDefault(d => d.Length > 1 && path.StartsWith(d + "/", StringComparison.Ordinal));

    private static string? ManagerAbsent(InstallTarget target) => target switch
    {
        { Root: { } root } => $"Staged under {root}",
        { Init: InitSystem.Launchd } when !OperatingSystem.IsMacOS() => "launchd is not here",
        { Init: InitSystem.Systemd } when !Directory.Exists("/run/systemd/system") => "systemd is not running here (no /run/systemd/system)",
        { Init: InitSystem.Systemd } when !OnPath("systemctl") => "systemctl is not here",
        _ => null,
    };

    private static bool OnPath(string program) => (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
        .Split(':', StringSplitOptions.RemoveEmptyEntries).Any(directory => File.Exists(Path.Combine(directory, program)));

    private static string[] Systemctl(InstallTarget target) => target.System ? ["systemctl"] : ["systemctl", "--user"];

    private static (string Unit, string Environment) SystemdPaths(InstallTarget target) => target.System
        ? ($"/etc/systemd/system/{ServiceName}.service", "/etc/heartbeat/agent.env")
        : (Path.Combine(target.Home, ".config", "systemd", "user", $"{ServiceName}.service"), Path.Combine(target.Home, ".config", "heartbeat", "agent.env"));

    private static string PlistPath(InstallTarget target) => target.System
        ? $"/Library/LaunchDaemons/{LaunchdLabel}.plist"
        : Path.Combine(target.Home, "Library", "LaunchAgents", $"{LaunchdLabel}.plist");

    private static string QuoteForSystemd(string argument) =>
        argument.Any(c => char.IsWhiteSpace(c) || c is '"' or '\\' or '\'' or '%' or '$')
            ? "\"" + argument.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
                .Replace("%", "%%", StringComparison.Ordinal).Replace("$", "$$", StringComparison.Ordinal) + "\""
            : argument;
}
