using System.Net;
using Heartbeat.Server.Hosting;

namespace Heartbeat.Server.Tests;

/// <summary>The one list of settings that the command line, the environment, and later a config file and the docs share.</summary>
public sealed class SettingsTests
{
    private static readonly TimeSpan ExitDeadline = TimeSpan.FromSeconds(30);

    public static TheoryData<string> SettingsWithADefault => [.. ServerOptions.Settings.Where(s => s.DefaultText is not null).Select(s => s.Name)];

    [Theory]
    [MemberData(nameof(SettingsWithADefault))]
    public void TheDefaultAsShownReadsBackAsTheDefault(string name)
    {
        var setting = ServerOptions.Settings.Single(s => s.Name == name);
        var defaults = new ServerOptions();

        Assert.True(setting.TryRead([setting.DefaultText!], out var value, out var error), error);
        Assert.Equal(defaults, setting.Apply(defaults, value));
    }

    [Fact]
    public void EachSettingHasANameAndAnEnvironmentVariableOfItsOwn()
    {
        Assert.Equal(ServerOptions.Settings.Count, ServerOptions.Settings.DistinctBy(s => s.Name).Count());
        Assert.Equal(ServerOptions.Settings.Count, ServerOptions.Settings.DistinctBy(s => s.Variable).Count());
        Assert.All(ServerOptions.Settings, s => Assert.StartsWith("HEARTBEAT_", s.Variable, StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheCommandLineWinsOverTheEnvironment()
    {
        using var directory = new TempDirectory();
        var log = directory.File("heartbeat.log");
        using var server = ServerProcess.Start(
            ["0", "--bind", "127.0.0.1", "--log-file", log, "--max-body", "200"], new Dictionary<string, string> { ["HEARTBEAT_MAX_BODY"] = "100" });
        var port = await server.WaitForStartAsync(log);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        using var fits = await client.PostAsync("/", new StringContent("""{"ip": "192.0.2.1"}""".PadRight(150)), TestContext.Current.CancellationToken);
        using var tooLarge = await client.PostAsync("/", new StringContent("""{"ip": "192.0.2.1"}""".PadRight(201)), TestContext.Current.CancellationToken);

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.RequestEntityTooLarge), (fits.StatusCode, tooLarge.StatusCode));
    }

    [Fact]
    public async Task ABadEnvironmentVariableExitsTwoNamingIt()
    {
        using var server = ServerProcess.Start([], new Dictionary<string, string> { ["HEARTBEAT_OUTAGE_WINDOW"] = "forever" });

        Assert.Equal(2, await server.WaitForExitAsync(ExitDeadline));
        Assert.Contains("HEARTBEAT_OUTAGE_WINDOW: 'forever' is not a duration from 1s to 1d", server.StandardError, StringComparison.Ordinal);
    }
}
