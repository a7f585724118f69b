using System.Net;
using System.Text.Json;
using Heartbeat.Server.Notify;
using Heartbeat.Server.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Heartbeat.Server.Tests;

/// <summary>Planned maintenance: alerts pause for a window, and a host not back when it ends is down then.</summary>
public sealed class MaintenanceTests
{
    private static readonly DateTimeOffset Start = new(2026, 2, 8, 11, 30, 0, TimeSpan.Zero);

    [Fact]
    public async Task AHostSilentThroughItsWindowIsDownWhenTheWindowEndsAndOnlyThen()
    {
        var time = new FakeTimeProvider(Start);
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await InProcessServer.StartAsync(o => o with { Notify = o.Notify with { Webhooks = [WebhookSpec.Parse(receiver.Url.ToString())] } }, time);

        await server.BeatAsync("""{"host": "db", "interval": 10, "maintenance": 60}""");
        time.Advance(TimeSpan.FromSeconds(16)); // past its usual deadline
        await server.WaitForStateAsync("db", "maintenance");
        Assert.DoesNotContain(HeartbeatLogFile.ReadMessages(server.LogPath), m => m.StartsWith("Host down", StringComparison.Ordinal));

        time.Advance(TimeSpan.FromSeconds(45)); // the window ends
        await server.WaitForStateAsync("db", "down");
        time.Advance(TimeSpan.FromSeconds(1)); // the flush that queues the alert

        var alerts = await server.ReceivedAfterAsync(receiver, "Host down - db");
        Assert.Equal(
            [
                "Host down - db (last seen 2026-02-08 11:30:00, expected every 10s, not back when its maintenance ended)",
                "Maintenance - db (alerts paused for 60s, until 2026-02-08 11:31:00)",
                "New host - db (IP 127.0.0.1, expected every 10s)",
            ],
            alerts);
        Assert.Contains("Maintenance - db (alerts paused for 60s, until 2026-02-08 11:31:00)", HeartbeatLogFile.ReadMessages(server.LogPath));
    }

    [Fact]
    public async Task WhatHappensInsideTheWindowIsLoggedButAlertsNobody()
    {
        var time = new FakeTimeProvider(Start);
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await InProcessServer.StartAsync(o => o with { Notify = o.Notify with { Webhooks = [WebhookSpec.Parse(receiver.Url.ToString())] } }, time);
        await server.BeatAsync("""{"host": "db", "interval": 10}""");

        using (var started = await server.Client.PostAsync("/api/v1/hosts/db/maintenance?for=10m", null, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, started.StatusCode);
        }

        Assert.Equal(Start.AddMinutes(10), (await server.GetHostAsync("db")).GetProperty("maintenanceUntil").GetDateTimeOffset());
        await server.BeatAsync("""{"host": "db", "interval": 10, "status": "fail", "msg": "upgrading"}""");
        time.Advance(TimeSpan.FromSeconds(16));
        await server.WaitForStateAsync("db", "maintenance");
        time.Advance(TimeSpan.FromSeconds(4));
        await server.BeatAsync("""{"host": "db", "interval": 10}""");
        using (var ended = await server.Client.DeleteAsync("/api/v1/hosts/db/maintenance", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, ended.StatusCode);
        }

        time.Advance(TimeSpan.FromSeconds(1));
        var alerts = await server.ReceivedAfterAsync(receiver, "Maintenance over - db");
        Assert.Equal(
            ["Maintenance - db (alerts paused for 10m, until 2026-02-08 11:40:00)", "Maintenance over - db (ended early)", "New host - db (IP 127.0.0.1, expected every 10s)"],
            alerts);
        var log = HeartbeatLogFile.ReadMessages(server.LogPath);
        Assert.Contains("Host failing - db (upgrading)", log);
        Assert.Contains("Host recovered - db (silent in maintenance for 4s)", log);
        Assert.Equal(JsonValueKind.Null, (await server.GetHostAsync("db")).GetProperty("maintenanceUntil").ValueKind);
    }

    [Fact]
    public async Task TheApiRefusesUnknownHostsAndBadWindowsAndWantsTheAdminToken()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { Security = o.Security with { AdminToken = "root-of-trust" } });
        await server.BeatAsync("""{"host": "db"}""");

        using var anonymous = await server.Client.PostAsync("/api/v1/hosts/db/maintenance?for=30m", null, TestContext.Current.CancellationToken);
        server.Client.DefaultRequestHeaders.Authorization = new("Bearer", "root-of-trust");
        using var unknown = await server.Client.PostAsync("/api/v1/hosts/nobody/maintenance?for=30m", null, TestContext.Current.CancellationToken);
        using var tooLong = await server.Client.PostAsync("/api/v1/hosts/db/maintenance?for=45d", null, TestContext.Current.CancellationToken);
        using var missing = await server.Client.PostAsync("/api/v1/hosts/db/maintenance", null, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal((HttpStatusCode.BadRequest, "application/problem+json"), (tooLong.StatusCode, tooLong.Content.Headers.ContentType?.MediaType));
        Assert.Contains("'for' must be a duration", await missing.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.DoesNotContain(HeartbeatLogFile.ReadMessages(server.LogPath), m => m.StartsWith("Maintenance", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheWindowShowsOnThePageAndSurvivesARestart()
    {
        var time = new FakeTimeProvider(Start);
        using var directory = new TempDirectory();
        await using (var first = await InProcessServer.StartAsync(time: time, directory: directory))
        {
            await first.BeatAsync("""{"host": "db", "interval": 10, "maintenance": 1800}""");
        }

        await using var server = await InProcessServer.StartAsync(time: time, directory: directory);
        Assert.Equal(Start.AddMinutes(30), (await server.GetHostAsync("db")).GetProperty("maintenanceUntil").GetDateTimeOffset());
        var page = await server.Client.GetStringAsync("/", TestContext.Current.CancellationToken);
        Assert.Contains("<span class=\"note note-maintenance\">maintenance until 2026-02-08 12:00:00 ", page, StringComparison.Ordinal);

        time.Advance(TimeSpan.FromMinutes(5)); // silent, but inside the window
        await server.WaitForStateAsync("db", "maintenance");
    }
}
