using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Heartbeat.Agent.Tests;

/// <summary>The agent against the real server, both as processes on 127.0.0.1, as a user runs them.</summary>
public sealed partial class AgentTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _directory = new();

    private string Log => _directory.File("heartbeat.log");

    [Fact]
    public async Task SendMakesTheHostAppearWithTheAddressThatRoutesToTheServer()
    {
        using var server = await StartServerAsync();

        using var agent = await RunAgentAsync("send", $"127.0.0.1:{server.Port}", "--host", "agent-test", "--every", "30s", "--misses", "2");

        Assert.Equal(0, agent.ExitCode);
        Assert.Contains("Received heartbeat - From: 127.0.0.1, Reported IP: 127.0.0.1, Host: agent-test", HeartbeatLogFile.HeartbeatMessages(Log));
        Assert.Contains("New host - agent-test (IP 127.0.0.1, expected every 30s)", HeartbeatLogFile.ReadMessages(Log));
        using var client = new HttpClient();
        var host = await client.GetStringAsync($"http://127.0.0.1:{server.Port}/api/v1/hosts/agent-test", TestContext.Current.CancellationToken);
        Assert.Contains("\"missesBeforeDown\":2", host, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendCarriesThisBootsIdTheClockAndTheGroup()
    {
        using var server = await StartServerAsync();

        using var agent = await RunAgentAsync("send", $"127.0.0.1:{server.Port}", "--host", "web1", "--group", "rack-2");

        Assert.Equal(0, agent.ExitCode);
        var host = await GetHostAsync(server.Port, "web1");
        Assert.Equal(File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim(), host.GetProperty("bootId").GetString());
        Assert.InRange(host.GetProperty("clockSkewSeconds").GetDouble(), -5, 5); // the same clock, give or take the trip
        Assert.False(host.GetProperty("clockOff").GetBoolean());
        Assert.Equal("rack-2", host.GetProperty("site").GetString());
    }

    [Fact]
    public async Task MaintenancePausesAlertsForTheWindowAndZeroEndsIt()
    {
        using var server = await StartServerAsync();

        using var start = await RunAgentAsync("maintenance", $"127.0.0.1:{server.Port}", "--for", "30m", "--host", "db");
        var during = await GetHostAsync(server.Port, "db");
        using var end = await RunAgentAsync("maintenance", $"127.0.0.1:{server.Port}", "--for", "0", "--host", "db");
        using var missing = await RunAgentAsync("maintenance", $"127.0.0.1:{server.Port}", "--host", "db");

        Assert.Equal((0, 0, 2), (start.ExitCode, end.ExitCode, missing.ExitCode));
        Assert.InRange(during.GetProperty("maintenanceUntil").GetDateTimeOffset() - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(29), TimeSpan.FromMinutes(30));
        Assert.Contains("--for", missing.StandardError, StringComparison.Ordinal);
        var log = HeartbeatLogFile.ReadMessages(Log);
        Assert.Contains(log, m => m.StartsWith("Maintenance - db (alerts paused for 30m, until ", StringComparison.Ordinal));
        Assert.Contains("Maintenance over - db (ended early)", log);
    }

    [Fact]
    public async Task SendReportsAFailureWithItsNote()
    {
        using var server = await StartServerAsync();

        using var agent = await RunAgentAsync("send", $"http://127.0.0.1:{server.Port}", "--host", "nas", "--status", "fail", "--msg", "disk 97% full", "--ip", "192.168.1.20");

        Assert.Equal(0, agent.ExitCode);
        Assert.Contains("Received heartbeat - From: 127.0.0.1, Reported IP: 192.168.1.20, Host: nas", HeartbeatLogFile.HeartbeatMessages(Log));
        await HeartbeatLogFile.WaitForMessageAsync(Log, "Host failing - nas (disk 97% full)");
    }

    [Fact]
    public async Task IpFromReportsWhatTheEchoServiceTheUserNamedAnswers()
    {
        using var server = await StartServerAsync();
        await using var echo = await PlainTextServer.StartAsync("203.0.113.7\n");

        using var agent = await RunAgentAsync("send", $"127.0.0.1:{server.Port}", "--host", "behind-nat", "--ip-from", echo.Url.ToString());

        Assert.Equal(0, agent.ExitCode);
        Assert.Contains("Received heartbeat - From: 127.0.0.1, Reported IP: 203.0.113.7, Host: behind-nat", HeartbeatLogFile.HeartbeatMessages(Log));
    }

    [Fact]
    public async Task SendToNobodyFailsWithOneClearLine()
    {
        using var agent = await RunAgentAsync("send", $"127.0.0.1:{FreePort()}", "--host", "lonely");

        Assert.Equal(1, agent.ExitCode);
        Assert.Matches(@"^heartbeat: cannot reach http://127\.0\.0\.1:\d+/: .+$", agent.StandardError.Trim());
    }

    [Fact]
    public async Task SendSaysWhatTheServerObjectsToAndCarriesTheToken()
    {
        using var server = await StartServerAsync("--token", "s3cret");

        using var without = await RunAgentAsync("send", $"127.0.0.1:{server.Port}", "--host", "web1");
        using var with = await RunAgentAsync("send", $"127.0.0.1:{server.Port}", "--host", "web1", "--token", "s3cret");

        Assert.Equal(1, without.ExitCode);
        Assert.Contains("401", without.StandardError, StringComparison.Ordinal);
        Assert.Contains("needs a beat token", without.StandardError, StringComparison.Ordinal);
        Assert.Equal(0, with.ExitCode);
    }

    [Fact]
    public async Task BadArgumentsAreRefusedWithAClearMessage()
    {
        using var agent = await RunAgentAsync("send", "localhost:7777", "--host", "not a hostname", "--every", "0s");

        Assert.Equal(2, agent.ExitCode);
        Assert.Contains("--host: must be 1-253 letters", agent.StandardError, StringComparison.Ordinal);
        Assert.Contains("--every: '0s' is not an interval", agent.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    public async Task AHostNameNoUrlCanCarryIsRefusedBeforeAnythingIsSent(string name)
    {
        using var agent = await RunAgentAsync("send", "localhost:7777", "--host", name);

        Assert.Equal(2, agent.ExitCode);
        Assert.Contains("--host: must be 1-253 letters, digits, '.', '-', '_' or ':', and not '.' or '..'", agent.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunBeatsEveryIntervalUntilSigtermAndThenExitsCleanly()
    {
        using var server = await StartServerAsync();
        using var agent = ChildProcess.Start("heartbeat", ["run", $"127.0.0.1:{server.Port}", "--every", "1s", "--host", "runner"]);

        var started = DateTime.UtcNow;
        await HeartbeatLogFile.WaitForAsync(Log, m => m.Count(l => l.EndsWith("Host: runner", StringComparison.Ordinal)) >= 4, "four beats");
        var elapsed = DateTime.UtcNow - started;
        agent.Terminate();

        Assert.Equal(0, await agent.WaitForExitAsync(Deadline));
        Assert.InRange(elapsed, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(10)); // 3 intervals of 1 s ± 10% after the first beat
        Assert.Equal(string.Empty, agent.StandardError);
    }

    [Fact]
    public async Task RunBacksOffWhileTheServerIsAwaySaysSoOnceAndRecovers()
    {
        var port = FreePort();
        using var agent = ChildProcess.Start("heartbeat", ["run", $"127.0.0.1:{port}", "--every", "2s", "--host", "patient"]);
        await Eventually.TrueAsync(() => agent.StandardError.Contains("cannot reach", StringComparison.Ordinal), "the agent to notice the outage");

        using var server = ServerProcess.Start([port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--log-file", Log]);
        await server.WaitForStartAsync(Log);
        await HeartbeatLogFile.WaitForAsync(Log, m => m.Any(l => l.EndsWith("Host: patient", StringComparison.Ordinal)), "a beat after the outage");
        await Eventually.TrueAsync(() => agent.StandardError.Contains("getting through again", StringComparison.Ordinal), "the agent to say it recovered");
        agent.Terminate();

        Assert.Equal(0, await agent.WaitForExitAsync(Deadline));
        Assert.Equal(1, CannotReach().Count(agent.StandardError));
    }

    [Fact]
    public async Task IpDiscoveryFindsTheLocalAddressThatRoutesToTheServer()
    {
        var address = await AddressDiscovery.RouteToAsync(new Uri("http://127.0.0.1:7777/"), TestContext.Current.CancellationToken);

        Assert.Equal(IPAddress.Loopback, address);
    }

    [Fact]
    public async Task InstallFromABuildFolderIsRefusedBeforeAnythingIsWritten()
    {
        var stage = _directory.File("stage");

        using var agent = await RunAgentAsync("install", "127.0.0.1:7777", "--root", stage, "--token", "s3cret");

        Assert.Equal(1, agent.ExitCode);
        Assert.Contains("this heartbeat runs from a build folder", agent.StandardError, StringComparison.Ordinal);
        Assert.Contains("deploy/publish.sh", agent.StandardError, StringComparison.Ordinal);
        Assert.False(Directory.Exists(stage));
    }

    [Fact]
    public async Task UninstallDryRunSaysWhatItWouldStopAndRemove()
    {
        using var agent = await RunAgentAsync("uninstall", "--dry-run", "--init", "systemd");

        Assert.Equal(0, agent.ExitCode);
        Assert.Contains("disable --now heartbeat-agent.service", agent.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Would remove ", agent.StandardOutput, StringComparison.Ordinal);
    }

    public void Dispose() => _directory.Dispose();

    private static async Task<ChildProcess> RunAgentAsync(params string[] arguments)
    {
        var agent = ChildProcess.Start("heartbeat", arguments, new Dictionary<string, string?> { ["HEARTBEAT_TOKEN"] = null });
        await agent.WaitForExitAsync(Deadline);
        return agent;
    }

    private async Task<RunningServer> StartServerAsync(params string[] extra)
    {
        var server = ServerProcess.Start(["0", "--bind", "127.0.0.1", "--log-file", Log, .. extra]);
        return new RunningServer(server, await server.WaitForStartAsync(Log));
    }

    private static async Task<System.Text.Json.JsonElement> GetHostAsync(int port, string id)
    {
        using var client = new HttpClient();
        var json = await client.GetStringAsync($"http://127.0.0.1:{port}/api/v1/hosts/{id}", TestContext.Current.CancellationToken);
        return System.Text.Json.JsonDocument.Parse(json).RootElement;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex("cannot reach")]
    private static partial Regex CannotReach();

    private sealed class RunningServer(ChildProcess process, int port) : IDisposable
    {
        public int Port => port;

        public void Dispose() => process.Dispose();
    }
}
