namespace Heartbeat.Deploy.Tests;

/// <summary>
/// 'heartbeat install' and 'uninstall' of the published agent, and install.sh from a release folder, as a system
/// install into a staging root (--root, as package tools do): the machine's own /etc and /usr/local are never touched.
/// </summary>
public sealed class InstallerTests(PublishedBuild build) : IDisposable
{
    private const string Unit = "/etc/systemd/system/heartbeat-agent.service";
    private const string TokenFile = "/etc/heartbeat/agent.env";
    private const string Binary = "/usr/local/bin/heartbeat";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private static readonly int[] PermissionShifts = [6, 3, 0]; // owner, group, others
    private readonly TempDirectory _directory = new();

    private string Stage => _directory.File("stage");

    [Fact]
    public async Task InstallCopiesTheAgentWritesTheUnitAndAPrivateTokenFileAndUninstallRemovesThemAll()
    {
        Sandbox.SkipUnlessRoot("a system install");

        using var install = await RunAsync(build.Agent, "install", "monitor.example.org:7777", "--root", Stage, "--every", "30s", "--host", "web1", "--token", "s3cret");

        Assert.Equal(0, install.ExitCode);
        Assert.Equal(await File.ReadAllBytesAsync(build.Agent, TestContext.Current.CancellationToken), await File.ReadAllBytesAsync(Staged(Binary), TestContext.Current.CancellationToken));
        Assert.Equal("rwxr-xr-x", Mode(Binary));
        Assert.Equal("rw-r--r--", Mode(Unit));
        Assert.Equal("rw-------", Mode(TokenFile));
        Assert.Equal("HEARTBEAT_TOKEN=s3cret\n", await File.ReadAllTextAsync(Staged(TokenFile), TestContext.Current.CancellationToken));
        var text = await File.ReadAllTextAsync(Staged(Unit), TestContext.Current.CancellationToken);
        Assert.DoesNotContain("s3cret", text, StringComparison.Ordinal);
        Assert.DoesNotContain(Stage, text, StringComparison.Ordinal);
        var unit = UnitFile.Parse(text);
        Assert.Equal($"{Binary} run http://monitor.example.org:7777/ --every 30s --host web1", unit.Get("Service", "ExecStart"));
        Assert.Equal($"-{TokenFile}", unit.Get("Service", "EnvironmentFile"));
        Assert.DoesNotContain("s3cret", install.StandardOutput + install.StandardError, StringComparison.Ordinal);
        Assert.Contains($"Staged under {Stage}; it ran no service manager command. Where it runs, run:\n  systemctl daemon-reload\n  systemctl enable --now heartbeat-agent.service\n", install.StandardOutput, StringComparison.Ordinal);

        using var uninstall = await RunAsync(build.Agent, "uninstall", "--root", Stage);

        Assert.Equal(0, uninstall.ExitCode);
        Assert.False(File.Exists(Staged(Unit)) || File.Exists(Staged(TokenFile)) || File.Exists(Staged(Binary)), uninstall.StandardOutput);
        Assert.False(Directory.Exists(Staged("/etc/heartbeat")));
        Assert.Contains($"Removed {Staged(Binary)}", uninstall.StandardOutput, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/tmp/heartbeat", "/tmp", "PrivateTmp=yes")]
    [InlineData("/var/tmp/agent", "/var/tmp", "PrivateTmp=yes")]
    [InlineData("/home/alice/.local", "/home", "ProtectHome=yes")]
    [InlineData("/root/.local", "/root", "ProtectHome=yes")]
    public async Task ASystemInstallRefusesABinaryWhereTheServiceCannotRunItAndWritesNothing(string prefix, string under, string why)
    {
        Sandbox.SkipUnlessRoot("a system install");

        using var install = await RunAsync(build.Agent, "install", "monitor.example.org:7777", "--root", Stage, "--prefix", prefix, "--token", "s3cret");

        Assert.Equal(1, install.ExitCode);
        Assert.Contains($"would be under {under}", install.StandardError, StringComparison.Ordinal);
        Assert.Contains(why, install.StandardError, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Stage) && Directory.EnumerateFileSystemEntries(Stage).Any());
    }

    [Fact]
    public async Task WithoutARunningSystemdADryRunSaysItWouldWriteEverythingAndHowToStartIt()
    {
        Assert.SkipWhen(Directory.Exists("/run/systemd/system"), "systemd runs on this machine: install would start the service.");
        Sandbox.SkipUnlessRoot("a system install");

        using var install = await RunAsync(build.Agent, "install", "monitor.example.org:7777", "--dry-run");

        Assert.Equal(0, install.ExitCode);
        Assert.Contains($"Would copy {build.Agent} to {Binary} (mode 0755)", install.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"Would write {Unit}:", install.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("systemd is not running here (no /run/systemd/system); it would run no service manager command. Where it runs, run:\n  systemctl daemon-reload\n", install.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("Would run:", install.StandardOutput, StringComparison.Ordinal);
        Assert.False(File.Exists(Unit) && File.ReadAllText(Unit).Contains("monitor.example.org", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ALaunchdDryRunShowsAPlistThatRunsTheCopiedAgentAndHidesTheToken()
    {
        using var install = await RunAsync(build.Agent, "install", "monitor.example.org:7777", "--dry-run", "--init", "launchd", "--host", "mac-mini", "--prefix", "/opt/heartbeat", "--token", "s3cret");

        Assert.Equal(0, install.ExitCode);
        var output = install.StandardOutput;
        Assert.DoesNotContain("s3cret", output, StringComparison.Ordinal);
        var xml = output[output.IndexOf("<?xml", StringComparison.Ordinal)..(output.IndexOf("</plist>", StringComparison.Ordinal) + "</plist>".Length)];
        var keys = System.Xml.Linq.XDocument.Parse(xml).Root!.Element("dict")!.Elements().ToList();
        Assert.Equal("com.heartbeat.agent", keys[keys.FindIndex(e => e.Name == "key" && e.Value == "Label") + 1].Value);
        var arguments = keys[keys.FindIndex(e => e.Value == "ProgramArguments") + 1].Elements("string").Select(e => e.Value);
        Assert.Equal(["/opt/heartbeat/bin/heartbeat", "run", "http://monitor.example.org:7777/", "--every", "60s", "--host", "mac-mini"], arguments);
        Assert.Contains($"Would copy {build.Agent} to /opt/heartbeat/bin/heartbeat (mode 0755)", output, StringComparison.Ordinal);
        Assert.Contains("launchctl load -w", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InstallShHelpExitsZeroWithItsUsage()
    {
        using var help = await RunAsync("/bin/bash", Repository.File("deploy", "agent", "install.sh"), "--help");

        Assert.Equal(0, help.ExitCode);
        Assert.StartsWith("usage: ", help.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("--prefix DIR", help.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(string.Empty, help.StandardError);
    }

    [Fact]
    public async Task InstallShFromAReleaseFolderInstallsTheAgentBesideIt()
    {
        Sandbox.SkipUnlessRoot("a system install");
        using var script = await RunAsync("/bin/bash", Path.Combine(build.Directory, "install.sh"), "127.0.0.1:7777", "--root", Stage, "--prefix", "/opt/heartbeat", "--host", "web1");

        Assert.Equal(0, script.ExitCode);
        Assert.Equal("rwxr-xr-x", Mode("/opt/heartbeat/bin/heartbeat"));
        var unit = UnitFile.Parse(await File.ReadAllTextAsync(Staged(Unit), TestContext.Current.CancellationToken));
        Assert.Equal("/opt/heartbeat/bin/heartbeat run http://127.0.0.1:7777/ --every 60s --host web1", unit.Get("Service", "ExecStart"));
        Assert.False(File.Exists(Staged(TokenFile)));
    }

    public void Dispose() => _directory.Dispose();

    private static async Task<ChildProcess> RunAsync(string program, params string[] arguments)
    {
        var process = ChildProcess.Start(program, arguments, new Dictionary<string, string?> { ["HEARTBEAT_TOKEN"] = null });
        await process.WaitForExitAsync(Deadline);
        return process;
    }

    private string Staged(string path) => Path.Join(Stage, path);

    private string Mode(string path)
    {
        var mode = File.GetUnixFileMode(Staged(path));
        return string.Concat(PermissionShifts.Select(shift => $"{(((int)mode >> shift & 4) != 0 ? 'r' : '-')}{(((int)mode >> shift & 2) != 0 ? 'w' : '-')}{(((int)mode >> shift & 1) != 0 ? 'x' : '-')}"));
    }
}
