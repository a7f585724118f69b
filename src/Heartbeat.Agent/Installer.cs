using System.Diagnostics;
using System.Xml.Linq;

namespace Heartbeat.Agent;

internal enum InitSystem
{
    Systemd,
    Launchd,
}

// A file to write and the commands to run, so that a dry run can show exactly what an install would do.
internal sealed record InstallPlan(IReadOnlyList<PlannedFile> Files, IReadOnlyList<string[]> Commands, IReadOnlyList<string> Removals);

// Path: Where the file goes.
// Content: What it holds.
// Shown: What a dry run prints: the content with any token masked.
// Private: Readable by its owner only (mode 0600), as it holds a token.
internal sealed record PlannedFile(string Path, string Content, string Shown, bool Private);

// Installs the agent to start at boot: a systemd service on Linux (a system service with DynamicUser=yes
// as root, a user service otherwise), a launchd agent on macOS (a daemon as root). A token goes into a
// file only its owner can read, not onto the command line, which every user sees in ps.
internal static class Installer
{
    public const string ServiceName = "heartbeat-agent";
    public const string LaunchdLabel = "com.heartbeat.agent";

    private const string MaskedToken = "(the --token value, hidden)";

    public static InitSystem Detect() => OperatingSystem.IsMacOS() ? InitSystem.Launchd : InitSystem.Systemd;

    public static InstallPlan PlanInstall(InitSystem init, bool asRoot, string home, IReadOnlyList<string> command, string? token) => init switch
    {
        InitSystem.Launchd => LaunchdInstall(asRoot, home, command, token),
        _ => SystemdInstall(asRoot, home, command, token),
    };

    public static InstallPlan PlanUninstall(InitSystem init, bool asRoot, string home)
    {
        if (init == InitSystem.Launchd)
        {
            var plist = PlistPath(asRoot, home);
            return new InstallPlan([], [["launchctl", "unload", "-w", plist]], [plist]);
        }

        var (unit, environment) = SystemdPaths(asRoot, home);
        string[] systemctl = asRoot ? ["systemctl"] : ["systemctl", "--user"];
        return new InstallPlan([], [[.. systemctl, "disable", "--now", $"{ServiceName}.service"], [.. systemctl, "daemon-reload"]], [unit, environment]);
    }

    // Writes the files and runs the commands, or with dryRun only says what it would do.
    public static async Task<int> ApplyAsync(InstallPlan plan, bool dryRun, TextWriter output, CancellationToken cancellationToken)
    {
        foreach (var file in plan.Files)
        {
            if (dryRun)
            {
                await output.WriteLineAsync($"Would write {file.Path}{(file.Private ? " (mode 0600)" : string.Empty)}:");
                await output.WriteLineAsync(file.Shown);
                continue;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(file.Path)!);
            await File.WriteAllTextAsync(file.Path, file.Content, cancellationToken);
            if (file.Private && !OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(file.Path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            await output.WriteLineAsync($"Wrote {file.Path}");
        }

        foreach (var command in plan.Commands)
        {
            if (dryRun)
            {
                await output.WriteLineAsync($"Would run: {string.Join(' ', command)}");
                continue;
            }

            using var process = Process.Start(new ProcessStartInfo(command[0], command[1..]) { UseShellExecute = false })
                ?? throw new InvalidOperationException($"could not run {command[0]}");
            await process.WaitForExitAsync(cancellationToken);
            if (process.ExitCode != 0)
            {
                await output.WriteLineAsync($"heartbeat: '{string.Join(' ', command)}' failed with exit code {process.ExitCode}.");
                return 1;
            }
        }

        foreach (var path in plan.Removals)
        {
            await output.WriteLineAsync(dryRun ? $"Would remove {path}" : $"Removed {path}");
            if (!dryRun)
            {
                File.Delete(path);
            }
        }

        return 0;
    }

    private static InstallPlan SystemdInstall(bool asRoot, string home, IReadOnlyList<string> command, string? token)
    {
        var (unitPath, environmentPath) = SystemdPaths(asRoot, home);
        var environment = token is null ? string.Empty : $"EnvironmentFile={environmentPath}\n";
        var user = asRoot
            ? "DynamicUser=yes\nNoNewPrivileges=yes\nProtectSystem=strict\nProtectHome=yes\nPrivateTmp=yes\n"
            : string.Empty;
        var unit = $"""
            [Unit]
            Description=Heartbeat agent: tells the heartbeat server this machine is alive
            After=network-online.target
            Wants=network-online.target

            [Service]
            Type=simple
            ExecStart={string.Join(' ', command.Select(QuoteForSystemd))}
            {environment}{user}Restart=always
            RestartSec=10

            [Install]
            WantedBy={(asRoot ? "multi-user.target" : "default.target")}

            """;
        string[] systemctl = asRoot ? ["systemctl"] : ["systemctl", "--user"];
        List<PlannedFile> files = [new(unitPath, unit, unit, Private: false)];
        if (token is not null)
        {
            files.Add(new PlannedFile(environmentPath, $"HEARTBEAT_TOKEN={token}\n", $"HEARTBEAT_TOKEN={MaskedToken}\n", Private: true));
        }

        return new InstallPlan(files, [[.. systemctl, "daemon-reload"], [.. systemctl, "enable", "--now", $"{ServiceName}.service"]], []);
    }

    private static InstallPlan LaunchdInstall(bool asRoot, string home, IReadOnlyList<string> command, string? token)
    {
        var path = PlistPath(asRoot, home);
        var log = asRoot ? "/var/log/heartbeat-agent.log" : Path.Combine(home, "Library", "Logs", "heartbeat-agent.log");
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
        return new InstallPlan([new PlannedFile(path, content, shown, Private: token is not null)], [["launchctl", "load", "-w", path]], []);
    }

    private static (string Unit, string Environment) SystemdPaths(bool asRoot, string home) => asRoot
        ? ($"/etc/systemd/system/{ServiceName}.service", "/etc/heartbeat/agent.env")
        : (Path.Combine(home, ".config", "systemd", "user", $"{ServiceName}.service"), Path.Combine(home, ".config", "heartbeat", "agent.env"));

    private static string PlistPath(bool asRoot, string home) => asRoot
        ? $"/Library/LaunchDaemons/{LaunchdLabel}.plist"
        : Path.Combine(home, "Library", "LaunchAgents", $"{LaunchdLabel}.plist");

    private static string QuoteForSystemd(string argument) =>
        argument.Any(c => char.IsWhiteSpace(c) || c is '"' or '\\' or '\'' or '%' or '$')
            ? "\"" + argument.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
                .Replace("%", "%%", StringComparison.Ordinal).Replace("$", "$$", StringComparison.Ordinal) + "\""
            : argument;
}
