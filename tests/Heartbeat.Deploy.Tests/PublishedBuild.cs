using System.Runtime.InteropServices;

[assembly: AssemblyFixture(typeof(Heartbeat.Deploy.Tests.PublishedBuild))]
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace Heartbeat.Deploy.Tests;

/// <summary>
/// The release as deploy/publish.sh builds it for this machine (the script CI and the Dockerfile run): NativeAOT where
/// clang is installed, else self-contained single files. Built once for the test run, in a directory of its own.
/// </summary>
public sealed class PublishedBuild : IAsyncLifetime
{
    private readonly TempDirectory _output = new();

    public string Runtime { get; } = RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";

    /// <summary>dist/RID: heartbeat-server, heartbeat, install.sh (and libe_sqlite3.so from a NativeAOT build).</summary>
    public string Directory => Path.Combine(_output.Path, Runtime);

    public string Server => Path.Combine(Directory, "heartbeat-server");

    public string Agent => Path.Combine(Directory, "heartbeat");

    public bool IsNativeAot => File.Exists(Path.Combine(Directory, "libe_sqlite3.so"));

    public async ValueTask InitializeAsync()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "The deployment tests are for Linux: systemd, setpriv, a Linux container.");
        using var publish = ChildProcess.Start("/bin/bash", [Repository.File("deploy", "publish.sh"), "--out", _output.Path, Runtime]);
        var exitCode = await publish.WaitForExitAsync(TimeSpan.FromMinutes(20));
        Assert.True(exitCode == 0, $"deploy/publish.sh exited with {exitCode}:\n{publish.StandardOutput}\n{publish.StandardError}");
        Assert.True(File.Exists(Server) && File.Exists(Agent), publish.StandardOutput);
    }

    public ValueTask DisposeAsync()
    {
        _output.Dispose();
        return ValueTask.CompletedTask;
    }
}
