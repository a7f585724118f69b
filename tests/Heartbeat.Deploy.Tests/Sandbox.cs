using System.Net;
using System.Net.Sockets;

namespace Heartbeat.Deploy.Tests;

/// <summary>
/// Runs a program as a service manager would: as an unprivileged uid (setpriv, which needs root; skipped elsewhere),
/// with no new privileges, an empty capability bounding set, and only the environment given (no HOME unless given).
/// </summary>
internal static class Sandbox
{
    /// <summary>A uid of the range systemd gives dynamic users (61184-65519).</summary>
    public const int DynamicUid = 61184;

    public static void SkipUnlessRoot(string what) =>
        Assert.SkipUnless(Environment.IsPrivilegedProcess, $"Running {what} as an unprivileged uid needs root for setpriv (CI runs the tests as root).");

    public static ChildProcess Start(int uid, string program, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        // Every variable of the test process unset, then only PATH and those given, as a unit's Environment= lines set them.
        var variables = Environment.GetEnvironmentVariables().Keys.Cast<string>().ToDictionary(name => name, _ => (string?)null, StringComparer.Ordinal);
        variables["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        foreach (var (name, value) in environment)
        {
            variables[name] = value;
        }

        var id = uid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return ChildProcess.Start(
            "/usr/bin/setpriv",
            ["--reuid", id, "--regid", id, "--clear-groups", "--no-new-privs", "--bounding-set", "-all", "--inh-caps", "-all", "--", program, .. arguments],
            variables);
    }

    /// <summary>A directory of <paramref name="uid"/>'s own (mode 0755), as StateDirectory= and a volume give it.</summary>
    public static string OwnedDirectory(string path, int uid)
    {
        Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        var id = uid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var chown = ChildProcess.Start("/bin/chown", [$"{id}:{id}", path]);
        Assert.Equal(0, chown.WaitForExitAsync(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult());
        return path;
    }

    /// <summary>Makes every directory from <paramref name="path"/> up to / passable for other users (a temp directory may be 0700).</summary>
    public static void Passable(string path)
    {
        for (var directory = new DirectoryInfo(path); directory is not null; directory = directory.Parent)
        {
            var mode = File.GetUnixFileMode(directory.FullName);
            File.SetUnixFileMode(directory.FullName, mode | UnixFileMode.OtherExecute | UnixFileMode.GroupExecute);
        }
    }

    public static int OwnerOf(string path)
    {
        using var stat = ChildProcess.Start("/usr/bin/stat", ["-c", "%u", path]);
        Assert.Equal(0, stat.WaitForExitAsync(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult());
        return int.Parse(stat.StandardOutput.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
