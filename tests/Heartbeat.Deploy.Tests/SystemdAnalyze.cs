using System.Globalization;
using System.Text.RegularExpressions;

namespace Heartbeat.Deploy.Tests;

/// <summary>Debian's systemd-analyze (./test.sh installs the systemd package for it), run as a process on a unit file.</summary>
internal static partial class SystemdAnalyze
{
    private const string Program = "/usr/bin/systemd-analyze";

    /// <summary>The overall exposure that 'systemd-analyze security --offline=yes' gives the unit, and its whole report.</summary>
    public static async Task<(double Exposure, string Report)> SecurityAsync(string unitPath)
    {
        var (_, output, error) = await RunAsync("security", "--offline=yes", "--no-pager", unitPath);
        var match = Overall().Match(output);
        Assert.True(match.Success, $"no overall exposure in:\n{output}\n{error}");
        return (double.Parse(match.Groups["exposure"].Value, CultureInfo.InvariantCulture), output);
    }

    /// <summary>'systemd-analyze verify' on the unit: its exit code and everything it said (warnings go to stderr).</summary>
    public static async Task<(int ExitCode, string Said)> VerifyAsync(string unitPath)
    {
        var (exitCode, output, error) = await RunAsync("verify", unitPath);
        return (exitCode, (output + error).Trim());
    }

    /// <summary>
    /// A copy of the unit whose ExecStart program is <paramref name="program"/>, an existing file: verify checks that the
    /// program exists and is executable, and the tests do not install into /opt or /usr/local. Nothing else is changed.
    /// </summary>
    public static string CopyWithProgram(string unitText, string unitName, string shippedProgram, string program, string directory)
    {
        Assert.Contains($"ExecStart={shippedProgram} ", unitText, StringComparison.Ordinal);
        var path = Path.Combine(directory, unitName);
        File.WriteAllText(path, unitText.Replace($"ExecStart={shippedProgram} ", $"ExecStart={program} ", StringComparison.Ordinal));
        return path;
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] arguments)
    {
        Assert.True(File.Exists(Program), $"The unit tests need {Program} (apt-get install systemd); ./test.sh installs it.");
        using var run = ChildProcess.Start(Program, arguments, new Dictionary<string, string?> { ["SYSTEMD_COLORS"] = "0", ["SYSTEMD_PAGER"] = "cat" });
        var exitCode = await run.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (exitCode, run.StandardOutput, run.StandardError);
    }

    [GeneratedRegex(@"Overall exposure level for \S+: (?<exposure>\d+\.\d+)")]
    private static partial Regex Overall();
}
