using System.Net;
using System.Text.Json;
using Heartbeat.Server.Tests.Infrastructure;

namespace Heartbeat.Server.Tests.Fleet;

/// <summary>
/// Fleet servers as real processes: one killed with kill -9 loses nothing it acknowledged, and the others take over its
/// alerts; one whose PostgreSQL goes away waits longer between tries, rather than spinning.
/// </summary>
public sealed class FleetCrashTests(PostgresFixture postgres)
{
    [Fact]
    public async Task AKilledServerLosesNoAcknowledgedBeatAndTheOtherAlertsForItsHosts()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        using var directory = new TempDirectory();
        using var a = Start(database, receiver, directory.File("a.log"));
        var aPort = await a.WaitForStartAsync(directory.File("a.log"));
        using var b = Start(database, receiver, directory.File("b.log"));
        var bPort = await b.WaitForStartAsync(directory.File("b.log"));
        using var client = new HttpClient();

        // The host beats through server A only, as fast as it is answered, until B sees it in the shared store and then
        // ten beats more; A is killed right after the last answer. The host rate limit is off, or a slow first sync
        // would make this a test of it.
        var acknowledged = 0;
        var lastAcknowledged = DateTimeOffset.MinValue;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var moreAfterSeen = 10;
        while (moreAfterSeen > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "Server B never saw the host that beats through A.");
            using var response = await client.PostAsync($"http://127.0.0.1:{aPort}/", new StringContent("""{"host": "survivor", "interval": 1}"""), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            acknowledged++;
            lastAcknowledged = DateTimeOffset.UtcNow;
            using var seen = await client.GetAsync($"http://127.0.0.1:{bPort}/api/v1/hosts/survivor", TestContext.Current.CancellationToken);
            moreAfterSeen -= seen.IsSuccessStatusCode || moreAfterSeen < 10 ? 1 : 0;
        }

        a.KillHard();

        // Every acknowledged beat is in A's log.
        Assert.Equal(acknowledged, HeartbeatLogFile.HeartbeatMessages(directory.File("a.log")).Count(m => m.EndsWith("Host: survivor", StringComparison.Ordinal)));

        // B judges the silent host and sends the alert, exactly once.
        var down = await receiver.WaitForAsync(r => r.Body.Contains("Host down - survivor", StringComparison.Ordinal), "the down alert, from B", TimeSpan.FromSeconds(30));
        await HeartbeatLogFile.WaitForMessageAsync(directory.File("b.log"), JsonDocument.Parse(down.Body).RootElement.GetProperty("summary").GetString()!);
        var host = JsonDocument.Parse(await client.GetStringAsync($"http://127.0.0.1:{bPort}/api/v1/hosts/survivor", TestContext.Current.CancellationToken)).RootElement;
        Assert.Equal("down", host.GetProperty("state").GetString());

        // The store had caught up with A to within about a flush (250 ms) of the kill; the margin is for slow machines.
        Assert.InRange(lastAcknowledged - host.GetProperty("lastSeen").GetDateTimeOffset(), TimeSpan.Zero, TimeSpan.FromSeconds(2));
        Assert.Equal([1L], await PostgresFixture.QueryAsync<long>(database, "SELECT count(*) FROM events WHERE kind = 'Down' AND host_id = 'survivor'"));
        await Eventually.TrueAsync(
            async () => (await PostgresFixture.QueryAsync<long>(database, "SELECT count(*) FROM outbox WHERE state <> 'delivered'"))[0] == 0,
            "every alert delivered");
        Assert.Single(receiver.Requests, r => r.Body.Contains("Host down - survivor", StringComparison.Ordinal));
        b.Terminate();
        Assert.Equal(0, await b.WaitForExitAsync(TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task WhilePostgresIsAwayTheOutboxIsTriedAgainAfterLongerAndLongerWaits()
    {
        await using var own = await PostgresFixture.StartOwnServerAsync();
        var database = await own.CreateDatabaseAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        using var directory = new TempDirectory();
        using var server = Start(database, receiver, directory.File("heartbeat.log"));
        await server.WaitForStartAsync(directory.File("heartbeat.log"));

        await own.StopAsync();
        string[] Failures() => [.. server.StandardOutput.Split('\n').Where(l => l.Contains("NotificationDispatcher[", StringComparison.Ordinal))];
        await Eventually.TrueAsync(() => Failures().Length >= 1, "the first failed read of the outbox", TimeSpan.FromSeconds(30));
        var firstSeen = DateTime.UtcNow;
        await Eventually.TrueAsync(() => Failures().Length >= 3, "the third failed read of the outbox", TimeSpan.FromSeconds(30));

        // Waits of 1 s and then 2 s came between the three; a loop without them fails hundreds of times a second.
        Assert.InRange(DateTime.UtcNow - firstSeen, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(30));
        Assert.Equal(["tried again in 1 s", "tried again in 2 s", "tried again in 4 s"], Failures().Take(3).Select(l => l[l.IndexOf("tried again", StringComparison.Ordinal)..].TrimEnd()));
    }

    [Fact]
    public async Task StorePostgresOnTheCommandLineTakesTheConnectionFromTheEnvironment()
    {
        var database = await postgres.CreateDatabaseAsync();
        using var directory = new TempDirectory();
        var log = directory.File("heartbeat.log");

        using var server = ServerProcess.Start(
            ["0", "--bind", "127.0.0.1", "--log-file", log, "--store", "postgres"], new Dictionary<string, string> { ["HEARTBEAT_POSTGRES"] = database });
        var port = await server.WaitForStartAsync(log);

        using var client = new HttpClient();
        using var health = await client.GetAsync($"http://127.0.0.1:{port}/healthz", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20)));
    }

    private static ChildProcess Start(string database, WebhookReceiver receiver, string log) =>
        ServerProcess.Start(
            ["0", "--bind", "127.0.0.1", "--log-file", log, "--webhook", $"{receiver.Url}#down", "--host-rate-limit", "0"],
            new Dictionary<string, string> { ["HEARTBEAT_STORE"] = "postgres", ["HEARTBEAT_POSTGRES"] = database });
}
