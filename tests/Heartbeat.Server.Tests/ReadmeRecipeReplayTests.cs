using System.Net;
using System.Text;
using Heartbeat.Server.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Heartbeat.Server.Tests;

/// <summary>
/// Every ping and curl recipe the README shows, replayed minute by minute over three simulated days, with what happens
/// to real servers on the way: a burst of manual curls, a restart, a step of the wall clock. No host may be called down
/// that was not silent, and each real silence is one down.
/// </summary>
public sealed class ReadmeRecipeReplayTests
{
    private static readonly DateTimeOffset Start = new(2026, 2, 8, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task ThreeDaysOfTheReadmesRecipesRaiseNoFalseDownAndOneDownPerRealSilence()
    {
        var fake = new FakeTimeProvider(Start);
        var time = new SteppingClock(fake);
        using var directory = new TempDirectory();
        var server = await InProcessServer.StartAsync(InProcessServer.WithoutRateLimits, time, directory);
        try
        {
            var silentFrom = Start + TimeSpan.FromHours(30); // web2 is switched off for ten minutes on day 2
            var silentUntil = silentFrom + TimeSpan.FromMinutes(10);
            for (var minute = 0; minute < 3 * 24 * 60; minute++)
            {
                var now = Start + TimeSpan.FromMinutes(minute);
                if (now.TimeOfDay == TimeSpan.FromHours(3))
                {
                    // crontab: 0 3 * * * backup && curl -fsS "http://server:7777/ping/nightly-backup?interval=86400"
                    await SendAsync(server, HttpMethod.Get, "/ping/nightly-backup?interval=86400");

                    // curl -fsS http://server:7777/ping/db-dump/start; … curl -fsS --data-raw "$out" ".../ping/db-dump/$code?interval=86400"
                    await SendAsync(server, HttpMethod.Get, "/ping/db-dump/start", known: minute >= 24 * 60); // 404 before its first run ends
                }

                if (now.TimeOfDay == TimeSpan.FromHours(3) + TimeSpan.FromMinutes(4))
                {
                    await SendAsync(server, HttpMethod.Post, "/ping/db-dump/0?interval=86400", "dumped 1.2 GB");
                }

                // The agent (heartbeat run monitor:7777 --every 60s), Uptime Kuma's push, and a Consul TTL check, every minute.
                await SendAsync(server, HttpMethod.Post, "/", """{"host": "web1", "interval": 60}""");
                if (now < silentFrom || now >= silentUntil)
                {
                    await SendAsync(server, HttpMethod.Post, "/", """{"host": "web2", "interval": 60}""");
                }

                await SendAsync(server, HttpMethod.Get, "/api/push/nas-backup?status=up&msg=OK&ping=");
                await SendAsync(server, HttpMethod.Put, "/v1/agent/check/pass/service:web3?note=ok");

                if (minute == 60)
                {
                    // Someone tries the README's first command, five times in a row: a host of its own, that then falls silent.
                    for (var i = 0; i < 5; i++)
                    {
                        await SendAsync(server, HttpMethod.Post, "/", """{"ip": "192.168.1.100"}""");
                    }
                }

                if (minute == 36 * 60)
                {
                    // A restart: five minutes away.
                    await server.DisposeAsync();
                    fake.Advance(TimeSpan.FromMinutes(5));
                    server = await InProcessServer.StartAsync(InProcessServer.WithoutRateLimits, time, directory);
                }

                if (minute == 60 * 60)
                {
                    time.Step(TimeSpan.FromHours(2)); // an NTP correction after a long drift, or a VM resumed
                }

                fake.Advance(TimeSpan.FromMinutes(1));
                if (minute % 30 == 0)
                {
                    await server.SweptAsync(fake);
                }
            }

            await server.SweptAsync(fake);
            var downs = HeartbeatLogFile.ReadMessages(server.LogPath).Where(m => m.StartsWith("Host down - ", StringComparison.Ordinal)).ToList();
            Assert.Equal(["192.168.1.100", "web2"], downs.Select(m => m.Split(' ')[3]).Where(h => h != "canary"));
            foreach (var host in new[] { "web1", "web2", "service:web3", "nas-backup", "nightly-backup", "db-dump" })
            {
                // The last sweep came a minute after the last beats: late at most, and never down.
                var state = await server.StateOfAsync(host);
                Assert.True(state is "up" or "late", $"{host} is {state}");
            }

            // Silent from its first missed beat for ten minutes (and the two seconds a sweep check took).
            var recovered = Assert.Single(HeartbeatLogFile.ReadMessages(server.LogPath), m => m.StartsWith("Host recovered - web2", StringComparison.Ordinal));
            Assert.Equal("Host recovered - web2 (down for 10m 2s)", recovered);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static async Task SendAsync(InProcessServer server, HttpMethod method, string path, string? body = null, bool known = true)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : new StringContent(body, Encoding.UTF8) };
        using var response = await server.Client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(known ? HttpStatusCode.OK : HttpStatusCode.NotFound, response.StatusCode);
    }
}
