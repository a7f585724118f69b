using System.Net;
using System.Text;
using System.Text.Json;
using Heartbeat.Server.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Heartbeat.Server.Tests;

/// <summary>Liveness that never cries wolf: settings that stick, learning that bursts cannot fool, clocks that step.</summary>
public sealed class LivenessTests
{
    private static readonly DateTimeOffset Start = new(2026, 2, 8, 11, 30, 0, TimeSpan.Zero);

    [Fact]
    public async Task ACronJobsPingsWithoutItsIntervalKeepTheDayItDeclared()
    {
        var time = new FakeTimeProvider(Start);
        await using var server = await InProcessServer.StartAsync(time: time);
        await PingAsync(server, "/ping/nightly-backup?interval=86400");
        time.Advance(TimeSpan.FromHours(2));
        await PingAsync(server, "/ping/nightly-backup/start");
        time.Advance(TimeSpan.FromMinutes(10));
        await PingAsync(server, "/ping/nightly-backup/0");

        await server.SweptAsync(time, TimeSpan.FromMinutes(5)); // past the 60 s default and its grace

        var host = await server.GetHostAsync("nightly-backup");
        Assert.Equal("up", host.GetProperty("state").GetString());
        Assert.Equal((86400.0, "declared"), Interval(host));
        Assert.DoesNotContain(HeartbeatLogFile.ReadMessages(server.LogPath), m => m.StartsWith("Host down - nightly-backup", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AFewQuickCurlsTeachNoIntervalWhileASteadyRhythmIsLearned()
    {
        var time = new FakeTimeProvider(Start);
        await using var server = await InProcessServer.StartAsync(InProcessServer.WithoutRateLimits, time);
        for (var i = 0; i < 6; i++)
        {
            await server.BeatAsync("""{"host": "laptop"}""");
            time.Advance(TimeSpan.FromMilliseconds(300));
        }

        await server.SweptAsync(time, TimeSpan.FromSeconds(5));
        var burst = await server.GetHostAsync("laptop");
        Assert.Equal("up", burst.GetProperty("state").GetString());
        Assert.Equal((60.0, "default"), Interval(burst));
        Assert.Equal(0, burst.GetProperty("liveness").GetProperty("learnedFromGaps").GetInt32());

        for (var i = 0; i < 4; i++)
        {
            time.Advance(TimeSpan.FromSeconds(30));
            await server.BeatAsync("""{"host": "laptop"}""");
        }

        var steady = await server.GetHostAsync("laptop");
        Assert.Equal((30.0, "learned"), Interval(steady));
        Assert.Equal(4, steady.GetProperty("liveness").GetProperty("learnedFromGaps").GetInt32());
    }

    [Fact]
    public async Task AWallClockStepNeitherDownsEveryoneNorHoldsBackADown()
    {
        var fake = new FakeTimeProvider(Start);
        var time = new SteppingClock(fake);
        await using var server = await InProcessServer.StartAsync(time: time);
        await server.BeatAsync("""{"host": "web1", "interval": 60}""");

        time.Step(TimeSpan.FromHours(1)); // an NTP correction, a resumed VM
        await server.SweptAsync(fake, TimeSpan.FromSeconds(5));
        Assert.Equal("up", await server.StateOfAsync("web1"));

        time.Step(TimeSpan.FromHours(-3));
        fake.Advance(TimeSpan.FromSeconds(86)); // 91 s after its beat, on the machine's monotonic clock
        await server.WaitForStateAsync("web1", "down");
        await HeartbeatLogFile.WaitForAsync(server.LogPath, lines => lines.Any(l => l.Contains("Host down - web1", StringComparison.Ordinal)), "the down line");
        Assert.Single(HeartbeatLogFile.ReadMessages(server.LogPath), m => m.StartsWith("Host down - web1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AReadAfterABeatSeesItsHistoryAtOnce()
    {
        await using var server = await InProcessServer.StartAsync();
        await server.BeatAsync("""{"host": "vps", "ip": "203.0.113.1"}""");
        await server.BeatAsync("""{"host": "vps", "ip": "203.0.113.2"}""");

        var history = await server.GetJsonAsync("/api/v1/hosts/vps/history");

        Assert.Equal(1, history.GetProperty("addressChanges").GetArrayLength());
        Assert.Equal(["ip-changed", "new"], history.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("kind").GetString()));
        Assert.Equal(1, (await server.GetHostAsync("vps")).GetProperty("ipChanges").GetInt32());
    }

    [Fact]
    public async Task AnAdminsIntervalWinsOverTheDeclaredOneAndNullFallsBack()
    {
        var time = new FakeTimeProvider(Start);
        await using var server = await InProcessServer.StartAsync(time: time);
        await server.BeatAsync("""{"host": "db", "interval": 10}""");

        using var set = await PatchAsync(server, "db", """{"interval": 300, "grace": 60, "misses": 2}""");
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        var liveness = JsonDocument.Parse(await set.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.GetProperty("liveness");
        Assert.Equal((300.0, "configured", 60.0, "configured", 2, "configured"), (
            liveness.GetProperty("intervalSeconds").GetDouble(), liveness.GetProperty("intervalSource").GetString(),
            liveness.GetProperty("graceSeconds").GetDouble(), liveness.GetProperty("graceSource").GetString(),
            liveness.GetProperty("misses").GetInt32(), liveness.GetProperty("missesSource").GetString()));

        await server.SweptAsync(time, TimeSpan.FromSeconds(30)); // past what it declared
        Assert.Equal("up", await server.StateOfAsync("db"));

        using var cleared = await PatchAsync(server, "db", """{"interval": null}""");
        Assert.Equal((10.0, "declared"), Interval(JsonDocument.Parse(await cleared.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement));

        // Kept across a restart.
        using var directory = new TempDirectory();
        await using (var first = await InProcessServer.StartAsync(directory: directory))
        {
            await first.BeatAsync("""{"host": "nas"}""");
            (await PatchAsync(first, "nas", """{"schedule": "0 3 * * *", "timezone": "Europe/Berlin"}""")).Dispose();
        }

        await using var second = await InProcessServer.StartAsync(directory: directory);
        var restored = (await second.GetHostAsync("nas")).GetProperty("liveness");
        Assert.Equal(("0 3 * * *", "Europe/Berlin", "schedule"), (
            restored.GetProperty("schedule").GetString(), restored.GetProperty("timeZone").GetString(), restored.GetProperty("intervalSource").GetString()));
    }

    [Theory]
    [InlineData("""{"interval": 0}""", "interval")]
    [InlineData("""{"grace": "a minute"}""", "grace")]
    [InlineData("""{"misses": 101}""", "misses")]
    [InlineData("""{"schedule": "every night"}""", "schedule")]
    [InlineData("""{"timezone": "Mars/Olympus_Mons"}""", "timezone")]
    [InlineData("""{"colour": "red"}""", "colour")]
    public async Task InvalidSettingsAreRefusedNamingTheFieldAndChangeNothing(string body, string field)
    {
        await using var server = await InProcessServer.StartAsync();
        await server.BeatAsync("""{"host": "db", "interval": 10}""");

        using var response = await PatchAsync(server, "db", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(field, JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.GetProperty("field").GetString());
        Assert.Equal((10.0, "declared"), Interval(await server.GetHostAsync("db")));
    }

    [Fact]
    public async Task SettingsOfAnUnknownHostAre404AndABodyThatIsNoObjectIs400()
    {
        await using var server = await InProcessServer.StartAsync();
        using var unknown = await PatchAsync(server, "nobody", """{"interval": 60}""");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        await server.BeatAsync("""{"host": "db"}""");
        using var array = await PatchAsync(server, "db", "[60]");
        Assert.Equal(HttpStatusCode.BadRequest, array.StatusCode);
    }

    [Fact]
    public async Task AnExpectedHostIsPendingThenDownIfItNeverAppearsAndRecoversOnItsFirstBeat()
    {
        var time = new FakeTimeProvider(Start);
        await using var server = await InProcessServer.StartAsync(time: time);

        using var created = await PutAsync(server, "new-nas", """{"interval": 60}""");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("pending", await server.StateOfAsync("new-nas"));
        using var again = await PutAsync(server, "new-nas", """{"interval": 60}""");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);

        await server.SweptAsync(time, TimeSpan.FromSeconds(85));
        Assert.Equal("pending", await server.StateOfAsync("new-nas"));
        time.Advance(TimeSpan.FromSeconds(6));
        await server.WaitForStateAsync("new-nas", "down");
        await HeartbeatLogFile.WaitForMessageAsync(server.LogPath, "Host down - new-nas (never seen since it was added 2026-02-08 11:30:00, expected every 60s)");

        time.Advance(TimeSpan.FromSeconds(29));
        await server.BeatAsync("""{"host": "new-nas"}""");
        Assert.Equal("up", await server.StateOfAsync("new-nas"));
        Assert.Contains("Host recovered - new-nas (down for 60s)", HeartbeatLogFile.ReadMessages(server.LogPath)); // from 11:31:00, the beat it missed first
    }

    [Fact]
    public async Task AScheduledJobIsExpectedAtItsCronTimeInItsZoneAcrossASummerTimeChange()
    {
        // 2026-03-29: Berlin's clocks go from 02:00 to 03:00, so "02:30 every day" has no 02:30 that night.
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 28, 1, 30, 0, TimeSpan.Zero)); // 02:30 in Berlin
        await using var server = await InProcessServer.StartAsync(time: time);
        await PingAsync(server, "/ping/backup");
        (await PatchAsync(server, "backup", """{"schedule": "30 2 * * *", "timezone": "Europe/Berlin", "grace": 600}""")).Dispose();

        // Next expected at 03:00 CEST (01:00 UTC) on the 29th: 23.5 hours later, not 24.
        Assert.Equal((84600.0, "schedule"), Interval(await server.GetHostAsync("backup")));

        await server.SweptAsync(time, TimeSpan.FromHours(23.5) + TimeSpan.FromMinutes(9));
        Assert.Equal("late", await server.StateOfAsync("backup"));
        time.Advance(TimeSpan.FromMinutes(2));
        await server.WaitForStateAsync("backup", "down");
    }

    private static (double Seconds, string? Source) Interval(JsonElement host) =>
        (host.GetProperty("liveness").GetProperty("intervalSeconds").GetDouble(), host.GetProperty("liveness").GetProperty("intervalSource").GetString());

    private static async Task PingAsync(InProcessServer server, string path)
    {
        using var response = await server.Client.GetAsync(path, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static Task<HttpResponseMessage> PatchAsync(InProcessServer server, string host, string body) =>
        server.Client.PatchAsync($"/api/v1/hosts/{host}", new StringContent(body, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);

    private static Task<HttpResponseMessage> PutAsync(InProcessServer server, string host, string body) =>
        server.Client.PutAsync($"/api/v1/hosts/{host}", new StringContent(body, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
}
