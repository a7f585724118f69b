using System.Net;
using Heartbeat.Server.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Heartbeat.Server.Tests;

/// <summary>Hosts, their identity, IP history, states and events, against the real server and a real SQLite file.</summary>
public sealed class HostsTests
{
    private static readonly DateTimeOffset Start = new(2026, 2, 8, 11, 30, 0, TimeSpan.Zero);

    [Fact]
    public async Task IdentityIsTheHostNameElseTheReportedIpElseThePeerAddress()
    {
        await using var server = await InProcessServer.StartAsync();

        await server.BeatAsync("""{"host": "web1", "ip": "10.0.0.1"}""");
        await server.BeatAsync("""{"ip": "10.0.0.2"}""");
        await server.BeatAsync("{}");

        var hosts = (await server.GetJsonAsync("/api/v1/hosts")).GetProperty("hosts").EnumerateArray()
            .Select(h => (h.GetProperty("id").GetString(), h.GetProperty("ip").GetString()));
        Assert.Equal([("10.0.0.2", "10.0.0.2"), ("127.0.0.1", "127.0.0.1"), ("web1", "10.0.0.1")], hosts);
    }

    [Fact]
    public async Task FirstBeatCreatesTheHostAndLogsANewHostEventAfterTheBeat()
    {
        await using var server = await InProcessServer.StartAsync();

        await server.BeatAsync("""{"host": "web1", "ip": "192.168.1.53", "interval": 30, "msg": "hello"}""");

        var host = await server.GetHostAsync("web1");
        Assert.Equal("up", host.GetProperty("state").GetString());
        Assert.Equal(1, host.GetProperty("beats").GetInt64());
        Assert.Equal(30, host.GetProperty("intervalSeconds").GetDouble());
        Assert.Equal("declared", host.GetProperty("intervalSource").GetString());
        Assert.Equal("hello", host.GetProperty("message").GetString());
        Assert.Equal(
            [$"Server started, listening on port {server.Port}", "Received heartbeat - From: 127.0.0.1, Reported IP: 192.168.1.53, Host: web1", "New host - web1 (IP 192.168.1.53, expected every 30s)"],
            HeartbeatLogFile.ReadMessages(server.LogPath));
    }

    [Fact]
    public async Task IpChangeIsLoggedCountedAndKeptInTheHistoryNewestFirst()
    {
        await using var server = await InProcessServer.StartAsync();

        await server.BeatAsync("""{"host": "vps", "ip": "203.0.113.1"}""");
        await server.BeatAsync("""{"host": "vps", "ip": "203.0.113.1"}""");
        await server.BeatAsync("""{"host": "vps", "ip": "203.0.113.2"}""");
        await server.GetJsonAsync("/api/v1/hosts/vps/history"); // a read of the history writes the store first
        await server.BeatAsync("""{"host": "vps", "ip": "2001:db8::7"}""");

        Assert.Equal(2, (await server.GetHostAsync("vps")).GetProperty("ipChanges").GetInt32());
        Assert.Contains("Host IP changed - vps (203.0.113.1 -> 203.0.113.2)", HeartbeatLogFile.ReadMessages(server.LogPath));
        Assert.Contains("Host IP changed - vps (203.0.113.2 -> 2001:db8::7)", HeartbeatLogFile.ReadMessages(server.LogPath));
        var history = await server.GetJsonAsync("/api/v1/hosts/vps/history");
        var changes = history.GetProperty("addressChanges").EnumerateArray()
            .Select(c => (c.GetProperty("previous").GetString(), c.GetProperty("current").GetString(), c.GetProperty("changes").GetInt32()));
        Assert.Equal([("203.0.113.2", "2001:db8::7", 1), ("203.0.113.1", "203.0.113.2", 1)], changes);
    }

    [Fact]
    public async Task IpChangesBetweenTwoWritesOfTheStoreAreAllLoggedAndStoredAsOne()
    {
        // The store is written when the history is read, and not on a timer in between.
        await using var server = await InProcessServer.StartAsync(o => o with { Store = o.Store with { FlushInterval = TimeSpan.FromHours(1) } });
        await server.BeatAsync("""{"host": "vps", "ip": "203.0.113.1"}""");
        await server.GetJsonAsync("/api/v1/hosts/vps/history");

        // A host that hops between addresses: every beat a new one, faster than the store is written.
        string[] hops = ["203.0.113.2", "203.0.113.3", "203.0.113.1", "203.0.113.4"];
        foreach (var ip in hops)
        {
            await server.BeatAsync($$"""{"host": "vps", "ip": "{{ip}}"}""");
        }

        var logged = HeartbeatLogFile.ReadMessages(server.LogPath).Where(line => line.StartsWith("Host IP changed", StringComparison.Ordinal));
        Assert.Equal(
            ["203.0.113.1", .. hops[..^1]],
            logged.Select(line => line.Split('(', ' ')[^3]));
        Assert.Equal(4, (await server.GetHostAsync("vps")).GetProperty("ipChanges").GetInt32());

        var history = await server.GetJsonAsync("/api/v1/hosts/vps/history");
        var change = history.GetProperty("addressChanges")[0];
        Assert.Equal(("203.0.113.1", "203.0.113.4", 4), (change.GetProperty("previous").GetString(), change.GetProperty("current").GetString(), change.GetProperty("changes").GetInt32()));
        Assert.Equal(1, history.GetProperty("addressChanges").GetArrayLength());
        var moved = history.GetProperty("events")[0];
        Assert.Equal(("ip-changed", "203.0.113.1", "203.0.113.4", 4), (moved.GetProperty("kind").GetString(), moved.GetProperty("previousIp").GetString(), moved.GetProperty("ip").GetString(), moved.GetProperty("changes").GetInt32()));
        Assert.Equal("Host IP changed - vps (203.0.113.1 -> 203.0.113.4, 4 changes)", moved.GetProperty("summary").GetString());
        Assert.Equal(["ip-changed", "new"], history.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("kind").GetString()));
    }

    [Fact]
    public async Task FailingThenUpIsLoggedAsFailingAndThenRecovered()
    {
        await using var server = await InProcessServer.StartAsync();

        await server.BeatAsync("""{"host": "nas", "status": "up"}""");
        await server.BeatAsync("""{"host": "nas", "status": "fail", "msg": "disk 97% full"}""");
        Assert.Equal("failing", await server.StateOfAsync("nas"));
        await server.BeatAsync("""{"host": "nas", "status": "fail", "msg": "disk 98% full"}""");
        await server.BeatAsync("""{"host": "nas"}""");

        Assert.Equal("up", await server.StateOfAsync("nas"));
        var events = HeartbeatLogFile.ReadMessages(server.LogPath).Where(m => m.StartsWith("Host ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, events.Length);
        Assert.Equal("Host failing - nas (disk 97% full)", events[0]);
        Assert.Matches(@"^Host recovered - nas \(failing for [\d.]+s\)$", events[1]);
    }

    [Fact]
    public async Task SilentHostTurnsLateThenDownAndRecoversOnItsNextBeat()
    {
        var time = new FakeTimeProvider(Start);
        await using var server = await InProcessServer.StartAsync(time: time);
        await server.BeatAsync("""{"host": "pi", "interval": 10}""");

        time.Advance(TimeSpan.FromSeconds(9));
        await server.WaitForStateAsync("pi", "up");
        time.Advance(TimeSpan.FromSeconds(2));
        await server.WaitForStateAsync("pi", "late");
        time.Advance(TimeSpan.FromSeconds(5));
        await server.WaitForStateAsync("pi", "down");
        await HeartbeatLogFile.WaitForMessageAsync(server.LogPath, "Host down - pi (last seen 2026-02-08 11:30:00, expected every 10s)");

        time.Advance(TimeSpan.FromSeconds(44));
        await server.BeatAsync("""{"host": "pi", "interval": 10}""");

        Assert.Equal("up", await server.StateOfAsync("pi"));
        Assert.Contains("Host recovered - pi (down for 50s)", HeartbeatLogFile.ReadMessages(server.LogPath)); // from its first missed beat, at 10 s
        Assert.Single(HeartbeatLogFile.ReadMessages(server.LogPath), m => m.StartsWith("Host down", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AHostThatAsksForThreeMissesIsDownOnlyAfterThreeIntervalsAndItSurvivesARestart()
    {
        var time = new FakeTimeProvider(Start);
        using var directory = new TempDirectory();
        await using (var first = await InProcessServer.StartAsync(time: time, directory: directory))
        {
            await first.BeatAsync("""{"host": "flaky-link", "interval": 10, "misses": 3}""");
            Assert.Equal(3, (await first.GetHostAsync("flaky-link")).GetProperty("missesBeforeDown").GetInt32());
        }

        await using var server = await InProcessServer.StartAsync(time: time, directory: directory);
        await server.BeatAsync("""{"host": "witness", "interval": 10}""");
        await server.BeatAsync("""{"host": "flaky-link", "interval": 10, "misses": 3}""");

        time.Advance(TimeSpan.FromSeconds(16)); // one interval plus grace: down for an ordinary host
        await server.WaitForStateAsync("witness", "down");
        Assert.Equal("late", await server.StateOfAsync("flaky-link"));
        time.Advance(TimeSpan.FromSeconds(20)); // three intervals plus grace
        await server.WaitForStateAsync("flaky-link", "down");
        await HeartbeatLogFile.WaitForMessageAsync(server.LogPath, "Host down - flaky-link (last seen 2026-02-08 11:30:00, expected every 10s, 3 beats missed)");
    }

    [Fact]
    public async Task TheServerWideMissCountAppliesToHostsThatDoNotSay()
    {
        var time = new FakeTimeProvider(Start);
        await using var server = await InProcessServer.StartAsync(o => o with { Hosts = o.Hosts with { MissesBeforeDown = 2 } }, time);
        await server.BeatAsync("""{"host": "pi", "interval": 10}""");
        await server.BeatAsync("""{"host": "strict", "interval": 10, "misses": 1}""");

        time.Advance(TimeSpan.FromSeconds(16));
        await server.WaitForStateAsync("strict", "down");
        Assert.Equal("late", await server.StateOfAsync("pi"));
        time.Advance(TimeSpan.FromSeconds(10));
        await server.WaitForStateAsync("pi", "down");
    }

    [Fact]
    public async Task LateHostThatBeatsAgainIsUpWithoutAnyEvent()
    {
        var time = new FakeTimeProvider(Start);
        await using var server = await InProcessServer.StartAsync(time: time);
        await server.BeatAsync("""{"host": "pi", "interval": 10}""");
        time.Advance(TimeSpan.FromSeconds(12));
        await server.WaitForStateAsync("pi", "late");

        await server.BeatAsync("""{"host": "pi", "interval": 10}""");

        Assert.Equal("up", await server.StateOfAsync("pi"));
        Assert.DoesNotContain(HeartbeatLogFile.ReadMessages(server.LogPath), m => m.StartsWith("Host ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithoutADeclaredIntervalTheIntervalIsLearnedAndOneMissedBeatDoesNotMoveIt()
    {
        var time = new FakeTimeProvider(Start);
        await using var server = await InProcessServer.StartAsync(time: time);

        await server.BeatAsync("""{"host": "cron"}""");
        Assert.Equal("default", (await server.GetHostAsync("cron")).GetProperty("intervalSource").GetString());
        foreach (var gap in new[] { 30, 31, 60, 29, 30 })
        {
            time.Advance(TimeSpan.FromSeconds(gap));
            await server.BeatAsync("""{"host": "cron"}""");
        }

        var host = await server.GetHostAsync("cron");
        Assert.Equal("learned", host.GetProperty("intervalSource").GetString());
        Assert.Equal(30, host.GetProperty("intervalSeconds").GetDouble());

        await server.BeatAsync("""{"host": "cron", "interval": 300}""");
        host = await server.GetHostAsync("cron");
        Assert.Equal("declared", host.GetProperty("intervalSource").GetString());
        Assert.Equal(300, host.GetProperty("intervalSeconds").GetDouble());
    }

    [Fact]
    public async Task UndeclaredHostsUseTheDefaultIntervalUntilLearned()
    {
        var time = new FakeTimeProvider(Start);
        await using var server = await InProcessServer.StartAsync(o => o with { Hosts = o.Hosts with { DefaultInterval = TimeSpan.FromSeconds(20) } }, time);
        await server.BeatAsync("""{"host": "quiet"}""");

        time.Advance(TimeSpan.FromSeconds(29));
        await server.WaitForStateAsync("quiet", "late");
        time.Advance(TimeSpan.FromSeconds(2));

        await server.WaitForStateAsync("quiet", "down");
        await HeartbeatLogFile.WaitForMessageAsync(server.LogPath, "Host down - quiet (last seen 2026-02-08 11:30:00, expected every 20s)");
    }

    [Fact]
    public async Task RestartRestoresHostsTheirHistoryAndTheirState()
    {
        using var directory = new TempDirectory();
        await using (var first = await InProcessServer.StartAsync(directory: directory))
        {
            await first.BeatAsync("""{"host": "web1", "ip": "10.0.0.1", "interval": 60}""");
            await first.BeatAsync("""{"host": "web1", "ip": "10.0.0.9", "interval": 60, "msg": "after the move"}""");
            await first.BeatAsync("""{"host": "nas", "status": "fail", "interval": 60}""");
        }

        await using var second = await InProcessServer.StartAsync(directory: directory);

        var web1 = await second.GetHostAsync("web1");
        Assert.Equal("up", web1.GetProperty("state").GetString());
        Assert.Equal("10.0.0.9", web1.GetProperty("ip").GetString());
        Assert.Equal(2, web1.GetProperty("beats").GetInt64());
        Assert.Equal(1, web1.GetProperty("ipChanges").GetInt32());
        Assert.Equal("after the move", web1.GetProperty("message").GetString());
        Assert.Equal("failing", await second.StateOfAsync("nas"));
        var history = await second.GetJsonAsync("/api/v1/hosts/web1/history");
        Assert.Equal("10.0.0.9", history.GetProperty("addressChanges")[0].GetProperty("current").GetString());
        Assert.Equal(["ip-changed", "new"], history.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("kind").GetString()));

        // Event ids go on from where they were, so a client resuming with ?since= misses nothing.
        await second.BeatAsync("""{"host": "new-after-restart"}""");
        var status = await second.GetStatusJsonAsync();
        Assert.Equal(5, status.GetProperty("recentEvents")[0].GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task HostsSilentWhileTheServerWasDownAreJudgedOnlyAfterAGracePeriod()
    {
        var time = new FakeTimeProvider(Start);
        using var directory = new TempDirectory();
        await using (var first = await InProcessServer.StartAsync(time: time, directory: directory))
        {
            await first.BeatAsync("""{"host": "a", "interval": 10}""");
            await first.BeatAsync("""{"host": "b", "interval": 10}""");
        }

        time.Advance(TimeSpan.FromMinutes(5)); // the server is away far past both deadlines
        await using var second = await InProcessServer.StartAsync(time: time, directory: directory);

        // "b" beats again with a short interval: its going down proves the sweeper has judged everyone by then.
        await second.BeatAsync("""{"host": "b", "interval": 1}""");
        time.Advance(TimeSpan.FromSeconds(3));
        await second.WaitForStateAsync("b", "down");
        Assert.NotEqual("down", await second.StateOfAsync("a"));

        time.Advance(TimeSpan.FromSeconds(13)); // a full interval plus grace after the restart
        await second.WaitForStateAsync("a", "down");
        await HeartbeatLogFile.WaitForAsync(second.LogPath, m => m.Count(line => line.StartsWith("Host down", StringComparison.Ordinal)) == 2, "two down lines");
        Assert.Equal(["a", "b"], HeartbeatLogFile.ReadMessages(second.LogPath)
            .Where(m => m.StartsWith("Host down", StringComparison.Ordinal))
            .Select(m => m.Split(' ')[3])
            .Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ForgettingAHostRemovesItForGoodUntilItBeatsAgain()
    {
        using var directory = new TempDirectory();
        await using (var server = await InProcessServer.StartAsync(directory: directory))
        {
            await server.BeatAsync("""{"host": "retired", "ip": "10.0.0.1"}""");
            await server.BeatAsync("""{"host": "retired", "ip": "10.0.0.2"}""");

            using var deleted = await server.Client.DeleteAsync("/api/v1/hosts/retired", TestContext.Current.CancellationToken);
            using var again = await server.Client.DeleteAsync("/api/v1/hosts/retired", TestContext.Current.CancellationToken);

            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
            Assert.Null(await server.FindHostAsync("retired"));
        }

        await using var restarted = await InProcessServer.StartAsync(directory: directory);
        Assert.Null(await restarted.FindHostAsync("retired"));
        await restarted.BeatAsync("""{"host": "retired", "ip": "10.0.0.3"}""");
        var host = await restarted.GetHostAsync("retired");
        Assert.Equal(1, host.GetProperty("beats").GetInt64());
        Assert.Equal(0, host.GetProperty("ipChanges").GetInt32());
    }

    [Fact]
    public async Task ApiFiltersByStateAndSearchAndPagesTroubleFirst()
    {
        await using var server = await InProcessServer.StartAsync();
        foreach (var name in new[] { "b-up", "a-up", "c-up" })
        {
            await server.BeatAsync($$"""{"host": "{{name}}"}""");
        }

        await server.BeatAsync("""{"host": "z-failing", "status": "fail"}""");

        var all = await server.GetJsonAsync("/api/v1/hosts?limit=2&offset=1");
        Assert.Equal(4, all.GetProperty("total").GetInt32());
        Assert.Equal(["a-up", "b-up"], all.GetProperty("hosts").EnumerateArray().Select(h => h.GetProperty("id").GetString()));
        Assert.Equal(3, all.GetProperty("counts").GetProperty("up").GetInt32());
        Assert.Equal("z-failing", (await server.GetJsonAsync("/api/v1/hosts")).GetProperty("hosts")[0].GetProperty("id").GetString());
        var failing = await server.GetJsonAsync("/api/v1/hosts?state=failing");
        Assert.Equal(["z-failing"], failing.GetProperty("hosts").EnumerateArray().Select(h => h.GetProperty("id").GetString()));
        var search = await server.GetJsonAsync("/api/v1/hosts?q=C-U");
        Assert.Equal(["c-up"], search.GetProperty("hosts").EnumerateArray().Select(h => h.GetProperty("id").GetString()));
    }

    [Theory]
    [InlineData("/api/v1/hosts?state=sleeping", HttpStatusCode.BadRequest)]
    [InlineData("/api/v1/hosts?limit=0", HttpStatusCode.BadRequest)]
    [InlineData("/api/v1/hosts?offset=-1", HttpStatusCode.BadRequest)]
    [InlineData("/api/v1/hosts/nobody", HttpStatusCode.NotFound)]
    [InlineData("/api/v1/hosts/nobody/history", HttpStatusCode.NotFound)]
    [InlineData("/api/v1/events?since=yesterday", HttpStatusCode.BadRequest)]
    public async Task BadApiRequestsGetAProblem(string path, HttpStatusCode status)
    {
        await using var server = await InProcessServer.StartAsync();

        using var response = await server.Client.GetAsync(path, TestContext.Current.CancellationToken);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
