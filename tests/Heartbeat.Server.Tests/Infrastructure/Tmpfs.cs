using System.Diagnostics;

namespace Heartbeat.Server.Tests.Infrastructure;

/// <summary>A small tmpfs of the test's own, to fill or to make read-only: needs root (CI runs as root); skipped elsewhere.</summary>
internal sealed class Tmpfs(string path) : IAsyncDisposable
{
    public static async Task<Tmpfs> MountAsync(string path, string size)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Skip("Mounting a small tmpfs to fill needs root (CI runs the tests as root).");
        }

        Directory.CreateDirectory(path);
        var (exitCode, error) = await RunAsync("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", path);
        if (exitCode != 0)
        {
            Assert.Skip($"Could not mount a tmpfs here ({error.Trim()}): this machine does not let even root mount one.");
        }

        return new Tmpfs(path);
    }

    /// <summary>Makes the filesystem read-only (writable again with false), as a failing disk's kernel does.</summary>
    public async Task ReadOnlyAsync(bool readOnly = true) =>
        Assert.Equal(0, (await RunAsync("mount", "-o", readOnly ? "remount,ro" : "remount,rw", path)).ExitCode);

    public async ValueTask DisposeAsync() => await RunAsync("umount", "--lazy", path);

    private static async Task<(int ExitCode, string Error)> RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, error);
    }
}
