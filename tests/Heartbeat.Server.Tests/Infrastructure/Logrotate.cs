using System.Text.RegularExpressions;

namespace Heartbeat.Server.Tests.Infrastructure;

/// <summary>
/// Debian's real logrotate (which ./test.sh installs), run on the shipped deploy/logrotate/heartbeat-server
/// aimed at one test's log: its path in place of /var/log/heartbeat/*.log, and its server's pid in the
/// postrotate script in place of systemctl.
/// </summary>
internal static partial class Logrotate
{
    private const string Program = "/usr/sbin/logrotate";

    /// <summary>The shipped configuration as it is: logrotate moves the log away, then SIGHUP to <paramref name="serverPid"/>.</summary>
    public static string MoveAndHangUp(string log, int serverPid)
    {
        var shipped = Shipped(log);
        Assert.Matches(SystemctlReload(), shipped);
        return SystemctlReload().Replace(shipped, $"kill -HUP {serverPid}");
    }

    /// <summary>The copytruncate variant its comment describes: no nocreate line, no postrotate script.</summary>
    public static string CopyTruncate(string log)
    {
        var shipped = Shipped(log);
        Assert.Matches(NocreateAndScript(), shipped);
        return NocreateAndScript().Replace(shipped, "    copytruncate\n");
    }

    /// <summary>Rotates now (-f), with a state file beside the configuration.</summary>
    public static async Task RunAsync(string config)
    {
        Assert.True(File.Exists(Program), $"The rotation tests need logrotate at {Program} (apt-get install logrotate); ./test.sh installs it.");
        using var run = ChildProcess.Start(Program, ["-f", "-s", config + ".state", config]);
        var exitCode = await run.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(exitCode == 0, $"logrotate exited with {exitCode}: {run.StandardError}{run.StandardOutput}");
    }

    private static string Shipped(string log)
    {
        var text = File.ReadAllText(Repository.File("deploy", "logrotate", "heartbeat-server"));
        Assert.Contains("/var/log/heartbeat/*.log {", text, StringComparison.Ordinal);
        return text.Replace("/var/log/heartbeat/*.log {", $"{log} {{", StringComparison.Ordinal);
    }

    [GeneratedRegex(@"systemctl reload heartbeat-server\.service[^\n]*")]
    private static partial Regex SystemctlReload();

    [GeneratedRegex(@"    nocreate\n    sharedscripts\n    postrotate\n[^\n]*\n    endscript\n")]
    private static partial Regex NocreateAndScript();
}
