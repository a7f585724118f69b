using System.Net;
using System.Text.Json;
using Heartbeat.Server.Notify;
using Heartbeat.Server.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Heartbeat.Server.Tests;

/// <summary>Alerts reach real HTTP receivers and commands, in each service's format, at least once, through restarts.</summary>
public sealed class NotificationTests
{
    [Fact]
    public async Task GenericJsonCarriesTheEventAndAnIdempotencyKey()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await StartWithWebhookAsync($"{receiver.Url}hook");

        await server.BeatAsync("""{"host": "web1", "ip": "192.168.1.53", "interval": 60}""");

        var request = await receiver.WaitForAsync(r => r.Body.Contains("\"new\"", StringComparison.Ordinal), "the new-host webhook");
        var json = JsonDocument.Parse(request.Body).RootElement;
        Assert.Equal(("POST", "/hook"), (request.Method, request.Path));
        Assert.StartsWith("application/json", request.Headers["Content-Type"], StringComparison.Ordinal);
        Assert.Equal("new", json.GetProperty("event").GetString());
        Assert.Equal("web1", json.GetProperty("host").GetString());
        Assert.Equal("up", json.GetProperty("state").GetString());
        Assert.Equal("192.168.1.53", json.GetProperty("ip").GetString());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("previousIp").ValueKind);
        Assert.Equal(60, json.GetProperty("expectedIntervalSeconds").GetDouble());
        Assert.True(json.TryGetProperty("lastSeen", out _) && json.TryGetProperty("serverTime", out _));
        Assert.Equal("New host - web1 (IP 192.168.1.53, expected every 60s)", json.GetProperty("summary").GetString());
        Assert.Equal(json.GetProperty("eventId").GetString(), request.Headers["Idempotency-Key"]);
    }

    [Fact]
    public async Task SlackAndMattermostGetTextWithTheirMarkupEscaped()
    {
        var request = await FirstFailingAlertAsync("slack", "<@channel> & friends");

        var json = JsonDocument.Parse(request.Body).RootElement;
        Assert.Equal("*nas is failing*\nHost failing - nas (&lt;@channel&gt; &amp; friends)", json.GetProperty("text").GetString());
    }

    [Fact]
    public async Task DiscordGetsContentThatCannotMentionAnyone()
    {
        var request = await FirstFailingAlertAsync("discord", "@everyone look");

        var json = JsonDocument.Parse(request.Body).RootElement;
        Assert.Equal("**nas is failing**\nHost failing - nas (@everyone look)", json.GetProperty("content").GetString());
        Assert.Equal(0, json.GetProperty("allowed_mentions").GetProperty("parse").GetArrayLength());
    }

    [Fact]
    public async Task NtfyGetsPlainTextWithTitlePriorityAndTagsHeaders()
    {
        var request = await FirstFailingAlertAsync("ntfy", "disk full");

        Assert.StartsWith("text/plain", request.Headers["Content-Type"], StringComparison.Ordinal);
        Assert.Equal("Host failing - nas (disk full)", request.Body);
        Assert.Equal("nas is failing", request.Headers["Title"]);
        Assert.Equal("high", request.Headers["Priority"]);
        Assert.Equal("warning", request.Headers["Tags"]);
    }

    [Fact]
    public async Task GotifyGetsTitleMessageAndPriority()
    {
        var request = await FirstFailingAlertAsync("gotify", "disk full");

        var json = JsonDocument.Parse(request.Body).RootElement;
        Assert.Equal("nas is failing", json.GetProperty("title").GetString());
        Assert.Equal("Host failing - nas (disk full)", json.GetProperty("message").GetString());
        Assert.Equal(8, json.GetProperty("priority").GetInt32());
    }

    [Fact]
    public async Task TeamsGetsAMessageWithOneAdaptiveCard()
    {
        var request = await FirstFailingAlertAsync("teams", "disk full");

        var json = JsonDocument.Parse(request.Body).RootElement;
        Assert.Equal("message", json.GetProperty("type").GetString());
        var attachment = json.GetProperty("attachments")[0];
        Assert.Equal("application/vnd.microsoft.card.adaptive", attachment.GetProperty("contentType").GetString());
        var card = attachment.GetProperty("content");
        Assert.Equal("AdaptiveCard", card.GetProperty("type").GetString());
        Assert.Equal("nas is failing", card.GetProperty("body")[0].GetProperty("text").GetString());
        Assert.Equal("Host failing - nas (disk full)", card.GetProperty("body")[1].GetProperty("text").GetString());
    }

    [Fact]
    public async Task AReceiverThatFailsThreeTimesGetsTheEventExactlyOnceMoreAfterwards()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.FailNext(3);
        await using var server = await StartWithWebhookAsync($"{receiver.Url}#new");

        await server.BeatAsync("""{"host": "web1"}""");

        await receiver.WaitForAsync(r => !r.AnsweredWithFailure, "a successful delivery");
        var notifier = await Eventually.ValueAsync(
            async () =>
            {
                var n = (await server.GetJsonAsync("/api/v1/notifiers"))[0];
                return n.GetProperty("delivered").GetInt32() == 1 ? (object)n : null;
            },
            "the delivery to be recorded");
        var view = (JsonElement)notifier;
        Assert.Equal(4, receiver.Requests.Count);
        Assert.Single(receiver.Requests.Select(r => r.Headers["Idempotency-Key"]).Distinct());
        Assert.Equal(0, view.GetProperty("pending").GetInt32());
        Assert.Equal("HTTP 500 Internal Server Error", view.GetProperty("lastError").GetString());
        Assert.Equal(["new"], view.GetProperty("events").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task AfterTheLastAttemptTheNotificationIsParkedAndShown()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.FailNext(int.MaxValue);
        await using var server = await StartWithWebhookAsync(receiver.Url.ToString(), maxAttempts: 3);

        await server.BeatAsync("""{"host": "web1"}""");

        await Eventually.TrueAsync(
            async () => (await server.GetJsonAsync("/api/v1/notifiers"))[0].GetProperty("parked").GetInt32() == 1,
            "the notification to be parked");
        Assert.Equal(3, receiver.Requests.Count);
        var page = await server.Client.GetStringAsync("/", TestContext.Current.CancellationToken);
        Assert.Contains("<h2>Notifiers</h2>", page, StringComparison.Ordinal);
        Assert.Contains("HTTP 500 Internal Server Error", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnlyTheChosenEventsAreSent()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await StartWithWebhookAsync($"json:{receiver.Url}#down,recovered");

        await server.BeatAsync("""{"host": "short-lived", "interval": 1}""");
        await server.WaitForStateAsync("short-lived", "down");

        var down = await receiver.WaitForAsync(r => r.Body.Contains("\"down\"", StringComparison.Ordinal), "the down webhook");
        Assert.Single(receiver.Requests);
        Assert.Equal("short-lived", JsonDocument.Parse(down.Body).RootElement.GetProperty("host").GetString());
    }

    [Fact]
    public async Task TheCommandHookGetsTheEventInVariablesAndAsJsonOnStdin()
    {
        using var directory = new TempDirectory();
        var variables = directory.File("env.txt");
        var stdin = directory.File("stdin.json");
        await using var server = await InProcessServer.StartAsync(o => o with
        {
            Notify = o.Notify with { Commands = [CommandSpec.Parse($"env | grep ^HEARTBEAT_ | sort > {variables}; cat > {stdin} #ip-changed")] },
        });

        await server.BeatAsync("""{"host": "vps", "ip": "203.0.113.1"}""");
        await server.BeatAsync("""{"host": "vps", "ip": "203.0.113.2"}""");

        await Eventually.TrueAsync(() => File.Exists(stdin) && new FileInfo(stdin).Length > 0, "the command to run");
        var env = (await File.ReadAllLinesAsync(variables, TestContext.Current.CancellationToken)).ToDictionary(l => l.Split('=', 2)[0], l => l.Split('=', 2)[1]);
        Assert.Equal("ip-changed", env["HEARTBEAT_EVENT"]);
        Assert.Equal("vps", env["HEARTBEAT_HOST"]);
        Assert.Equal("203.0.113.2", env["HEARTBEAT_IP"]);
        Assert.Equal("203.0.113.1", env["HEARTBEAT_PREVIOUS_IP"]);
        Assert.Equal("Host IP changed - vps (203.0.113.1 -> 203.0.113.2)", env["HEARTBEAT_SUMMARY"]);
        var json = JsonDocument.Parse(await File.ReadAllTextAsync(stdin, TestContext.Current.CancellationToken)).RootElement;
        Assert.Equal(env["HEARTBEAT_EVENT_ID"], json.GetProperty("eventId").GetString());
    }

    [Fact]
    public async Task AFlappingHostSendsOneSummaryInsteadOfAStormAndOneWhenItSettles()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 2, 8, 11, 30, 0, TimeSpan.Zero));
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await InProcessServer.StartAsync(
            o => o with { Notify = o.Notify with { Webhooks = [WebhookSpec.Parse($"{receiver.Url}#down,recovered")], FlapThreshold = 2, FlapWindow = TimeSpan.FromMinutes(5) } },
            time);

        await server.FlapAsync(time, "flaky", cycles: 4);
        await receiver.WaitForAsync(r => r.Body.Contains("Host flapping - flaky", StringComparison.Ordinal), "the flapping summary");

        // The damper counts a change when the store flush routes it: every down is written before the clock jumps.
        await using var store = new SqliteConnection($"Data Source={server.Options.Store.Path};Pooling=False");
        await store.OpenAsync(TestContext.Current.CancellationToken);
        await Eventually.TrueAsync(async () => await CountDownsAsync(store) == 5, "the five downs in the store");
        time.Advance(TimeSpan.FromMinutes(6));
        var settled = await receiver.WaitForAsync(r => r.Body.Contains("Host stopped flapping - flaky", StringComparison.Ordinal), "the settled summary");

        Assert.Contains("now down", settled.Body, StringComparison.Ordinal);
        // Deliveries run concurrently, so their order is not promised; their number and kinds are.
        var events = receiver.Requests.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("event").GetString()).Order(StringComparer.Ordinal);
        Assert.Equal(["down", "flapping", "flapping", "recovered"], events);
        await HeartbeatLogFile.WaitForAsync(server.LogPath, m => m.Count(line => line.StartsWith("Host down - flaky", StringComparison.Ordinal)) == 5, "five down lines");
    }

    [Fact]
    public async Task ASummarySettledWhileTheOutboxCannotBeWrittenIsSentOnceItCanBe()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 2, 8, 11, 30, 0, TimeSpan.Zero));
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await InProcessServer.StartAsync(
            o => o with { Notify = o.Notify with { Webhooks = [WebhookSpec.Parse($"{receiver.Url}#down,recovered")], FlapThreshold = 2, FlapWindow = TimeSpan.FromMinutes(5) } },
            time);
        await server.FlapAsync(time, "flaky", cycles: 3);
        await receiver.WaitForAsync(r => r.Body.Contains("Host flapping - flaky", StringComparison.Ordinal), "the flapping summary");

        // The damper counts a change when the store flush routes it: every down is written before the clock jumps.
        await using var store = new SqliteConnection($"Data Source={server.Options.Store.Path};Pooling=False");
        await store.OpenAsync(TestContext.Current.CancellationToken);
        await Eventually.TrueAsync(async () => await CountDownsAsync(store) == 4, "the four downs in the store");

        // From here the store refuses every write to the outbox. The host settles, its summary is taken from the
        // damper, and the write fails.
        await Execute(store, "CREATE TRIGGER refuse BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'the outbox takes no writes in this test'); END");
        time.Advance(TimeSpan.FromMinutes(6));
        await Eventually.TrueAsync(() => server.Metrics.StoreWriteErrors.Value >= 1, "a refused write to the outbox");

        await Execute(store, "DROP TRIGGER refuse");

        // After a failed round the dispatcher waits a second of the fake clock, and that wait may start after any one
        // advance: the clock moves on in steps until the summary comes.
        var settled = await Eventually.ValueAsync(
            () =>
            {
                time.Advance(TimeSpan.FromMilliseconds(250));
                return receiver.Requests.FirstOrDefault(r => r.Body.Contains("Host stopped flapping - flaky", StringComparison.Ordinal));
            },
            "the settled summary");
        Assert.Contains("now down", settled.Body, StringComparison.Ordinal);

        static async Task Execute(SqliteConnection connection, string sql)
        {
            await using var command = new SqliteCommand(sql, connection);
            await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }
    }

    private static async Task<long> CountDownsAsync(SqliteConnection connection)
    {
        await using var command = new SqliteCommand("SELECT count(*) FROM events WHERE host_id = 'flaky' AND kind = 'Down'", connection);
        return (long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    [Fact]
    public async Task FiftyNewHostsInABurstSendFiveAlertsAndOneSummaryWhileEveryEventIsLoggedAndStored()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 2, 8, 11, 30, 0, TimeSpan.Zero));
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await InProcessServer.StartAsync(
            o => InProcessServer.WithoutRateLimits(o) with { Notify = o.Notify with { Webhooks = [WebhookSpec.Parse(receiver.Url.ToString())] } }, time);

        for (var i = 1; i <= 50; i++)
        {
            await server.BeatAsync($$"""{"host": "node-{{i:00}}", "interval": 3600}""");
        }

        time.Advance(TimeSpan.FromSeconds(1)); // the store flush that routes the alerts
        await Eventually.TrueAsync(() => receiver.Requests.Count == 5, "the five single alerts");
        time.Advance(TimeSpan.FromMinutes(1));
        var alerts = await server.ReceivedAfterAsync(receiver, "45 more new hosts");

        Assert.Equal(
            [
                "45 more new hosts in the last minute (50 in all): node-06, node-07, node-08, node-09, node-10, node-11, node-12, node-13, node-14, node-15 and 35 more",
                .. Enumerable.Range(1, 5).Select(i => $"New host - node-{i:00} (IP 127.0.0.1, expected every 1h 0m)"),
            ],
            alerts);
        var summary = JsonDocument.Parse(receiver.Requests.Single(r => r.Body.Contains("45 more", StringComparison.Ordinal)).Body).RootElement;
        Assert.Equal(("new-hosts", ""), (summary.GetProperty("event").GetString(), summary.GetProperty("host").GetString()));
        await HeartbeatLogFile.WaitForAsync(server.LogPath, m => m.Count(line => line.StartsWith("New host - node-", StringComparison.Ordinal)) == 50, "fifty new-host lines");
        var history = await server.GetJsonAsync("/api/v1/hosts/node-50/history");
        Assert.Equal(["new"], history.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("kind").GetString()));
    }

    [Fact]
    public async Task ABurstOfIpChangesFoldsIntoOneSummaryForATargetThatAskedForIpChanges()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 2, 8, 11, 30, 0, TimeSpan.Zero));
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await InProcessServer.StartAsync(
            o => InProcessServer.WithoutRateLimits(o) with { Notify = o.Notify with { Webhooks = [WebhookSpec.Parse($"{receiver.Url}#ip-changed")] } }, time);

        for (var i = 1; i <= 8; i++)
        {
            await server.BeatAsync($$"""{"host": "dhcp-{{i}}", "ip": "10.0.0.{{i}}", "interval": 3600}""");
            await server.BeatAsync($$"""{"host": "dhcp-{{i}}", "ip": "10.0.1.{{i}}", "interval": 3600}""");
        }

        time.Advance(TimeSpan.FromSeconds(1));
        await Eventually.TrueAsync(() => receiver.Requests.Count == 5, "the five single alerts");
        time.Advance(TimeSpan.FromMinutes(1));
        var alerts = await server.ReceivedAfterAsync(receiver, "3 more IP changes");

        Assert.Equal(
            [
                "3 more IP changes in the last minute (8 in all): dhcp-6, dhcp-7, dhcp-8",
                .. Enumerable.Range(1, 5).Select(i => $"Host IP changed - dhcp-{i} (10.0.0.{i} -> 10.0.1.{i})"),
            ],
            alerts);
        Assert.Equal(8, (await server.GetJsonAsync("/api/v1/hosts")).GetProperty("hosts").EnumerateArray().Sum(h => h.GetProperty("ipChanges").GetInt32()));
    }

    [Fact]
    public async Task TheTestEndpointSendsATestNotificationToEveryTarget()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await StartWithWebhookAsync($"ntfy:{receiver.Url}alerts#down");

        using var response = await server.Client.PostAsync("/api/v1/notifiers/test", null, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var request = await receiver.WaitForAsync(_ => true, "the test notification");
        Assert.Equal("Heartbeat test", request.Headers["Title"]);
    }

    [Fact]
    public async Task TheTestEndpointSaysSoWhenNoNotifierIsConfigured()
    {
        await using var server = await InProcessServer.StartAsync();

        using var response = await server.Client.PostAsync("/api/v1/notifiers/test", null, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("--webhook", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NotificationsPendingWhenTheServerIsKilledAreDeliveredAfterTheRestart()
    {
        using var directory = new TempDirectory();
        var log = directory.File("heartbeat.log");
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.FailNext(int.MaxValue);
        string[] arguments = ["0", "--bind", "127.0.0.1", "--log-file", log, "--data", directory.File("heartbeat.db"), "--webhook", receiver.Url.ToString()];
        var environment = new Dictionary<string, string> { ["HEARTBEAT_STORE"] = "sqlite" };

        using (var first = ServerProcess.Start(arguments, environment))
        {
            var port = await first.WaitForStartAsync(log);
            using var client = new HttpClient();
            using var response = await client.PostAsync($"http://127.0.0.1:{port}/", new StringContent("""{"host": "survivor"}"""), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await receiver.WaitForAsync(r => r.AnsweredWithFailure, "a first, failed attempt");
            first.KillHard();
        }

        receiver.FailNext(0);
        using var second = ServerProcess.Start(arguments, environment);
        await second.WaitForStartAsync(log, earlierStarts: 1);

        var delivered = await receiver.WaitForAsync(r => !r.AnsweredWithFailure, "the delivery after the restart", TimeSpan.FromSeconds(20));
        Assert.Equal("survivor", JsonDocument.Parse(delivered.Body).RootElement.GetProperty("host").GetString());
    }

    [Fact]
    public async Task WebhookUrlsWhichOftenHoldTokensNeverReachTheConsole()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        using var directory = new TempDirectory();
        var log = directory.File("heartbeat.log");
        var secretUrl = $"{receiver.Url}services/T000/B000/s3cretWebhookToken";
        using var server = ServerProcess.Start(["0", "--bind", "127.0.0.1", "--log-file", log, "--webhook", secretUrl]);
        var port = await server.WaitForStartAsync(log);

        using var client = new HttpClient();
        (await client.PostAsync($"http://127.0.0.1:{port}/", new StringContent("""{"host": "web1"}"""), TestContext.Current.CancellationToken)).Dispose();
        await receiver.WaitForAsync(r => r.Path.EndsWith("s3cretWebhookToken", StringComparison.Ordinal), "the webhook");
        server.Terminate();
        await server.WaitForExitAsync(TimeSpan.FromSeconds(15));

        Assert.DoesNotContain("s3cretWebhookToken", server.StandardOutput + server.StandardError, StringComparison.Ordinal);
    }

    private static Task<InProcessServer> StartWithWebhookAsync(string spec, int maxAttempts = 10) =>
        InProcessServer.StartAsync(o => o with
        {
            Notify = o.Notify with { Webhooks = [WebhookSpec.Parse(spec)], MaxAttempts = maxAttempts, RetryBase = TimeSpan.FromMilliseconds(50) },
        });

    private static async Task<ReceivedRequest> FirstFailingAlertAsync(string format, string message)
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await StartWithWebhookAsync($"{format}:{receiver.Url}#failing");
        await server.BeatAsync(JsonSerializer.Serialize(new { host = "nas", status = "fail", msg = message }));
        return await receiver.WaitForAsync(_ => true, $"the {format} webhook");
    }
}
