namespace Heartbeat.Server.Tests;

/// <summary>
/// Where the SQLite file goes when nothing says: heartbeat-server --help shows the default it would use, as a real
/// process started with the environment a service user has.
/// </summary>
public sealed class DefaultDataPathTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("relative/home")]
    [InlineData("/")]
    [InlineData("/nonexistent")]
    public async Task AUserWithoutAHomeGetsTheServicesAbsolutePathNeverARelativeOne(string? home)
    {
        var help = await HelpAsync(new() { ["HOME"] = home });

        Assert.Contains("[env: HEARTBEAT_DATA] [default: /var/lib/heartbeat/heartbeat.db]", help, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AUserWithAHomeGetsItsXdgStateDirectory()
    {
        using var home = new TempDirectory();

        var help = await HelpAsync(new() { ["HOME"] = home.Path });

        Assert.Contains($"[default: {home.Path}/.local/state/heartbeat/heartbeat.db]", help, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SystemdsStateDirectoryComesFirstAndARelativeXdgStateHomeIsIgnored()
    {
        var underSystemd = await HelpAsync(new() { ["STATE_DIRECTORY"] = "/var/lib/heartbeat", ["HOME"] = null });
        var relativeXdg = await HelpAsync(new() { ["XDG_STATE_HOME"] = "state", ["HOME"] = null });

        Assert.Contains("[default: /var/lib/heartbeat/heartbeat.db]", underSystemd, StringComparison.Ordinal);
        Assert.Contains("[default: /var/lib/heartbeat/heartbeat.db]", relativeXdg, StringComparison.Ordinal);
    }

    private static async Task<string> HelpAsync(Dictionary<string, string?> environment)
    {
        environment.TryAdd("STATE_DIRECTORY", null);
        environment.TryAdd("XDG_STATE_HOME", null);
        environment["HEARTBEAT_DATA"] = null;
        using var server = ChildProcess.Start("heartbeat-server", ["--help"], environment);
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        return server.StandardOutput;
    }
}
