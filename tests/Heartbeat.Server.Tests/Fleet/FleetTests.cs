using System.Net;
using Heartbeat.Server.Hosting;
using Heartbeat.Server.Notify;
using Heartbeat.Server.Storage;
using Heartbeat.Server.Tests.Infrastructure;

namespace Heartbeat.Server.Tests.Fleet;

/// <summary>Several servers, one PostgreSQL database: one fleet, each transition and alert exactly once.</summary>
public sealed class FleetTests(PostgresFixture postgres)
{
    [Fact]
    public async Task EveryServerShowsTheWholeFleet()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var a = await StartNodeAsync(database);
        await using var b = await StartNodeAsync(database);

        await a.BeatAsync("""{"host": "web1", "ip": "10.0.0.1"}""");
        await b.BeatAsync("""{"host": "web2", "ip": "10.0.0.2"}""");
        await a.BeatAsync("""{"host": "db", "ip": "10.0.0.3"}""");

        // The store keeps times to the millisecond: two servers' beats within one are in no order anyone can tell.
        var first = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await Eventually.TrueAsync(() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() > first, "the next millisecond");
        await b.BeatAsync("""{"host": "db", "ip": "10.0.0.4"}""");

        foreach (var node in new[] { a, b })
        {
            await Eventually.TrueAsync(
                async () => await node.FindHostAsync("db") is { } db && db.GetProperty("ip").GetString() == "10.0.0.4"
                    && await node.FindHostAsync("web1") is not null && await node.FindHostAsync("web2") is not null,
                "all three hosts, db with its latest IP, on both servers");
        }

        // Whichever server's flush comes first, the later beat's address wins, and each host is new exactly once.
        Assert.Equal(2, (await a.GetHostAsync("db")).GetProperty("beats").GetInt32());
        var created = await PostgresFixture.QueryAsync<string>(database, "SELECT host_id FROM events WHERE kind = 'New' ORDER BY host_id");
        Assert.Equal(["db", "web1", "web2"], created);
    }

    [Fact]
    public async Task EachDownHappensAndAlertsExactlyOnceAcrossTheFleet()
    {
        const int Hosts = 8, Rounds = 4;
        var database = await postgres.CreateDatabaseAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        // Flapping summaries off: this test wants every down and recovery alerted, one by one.
        Func<ServerOptions, ServerOptions> alerting = o => o with { Notify = o.Notify with { Webhooks = [WebhookSpec.Parse($"{receiver.Url}#down,recovered")], FlapThreshold = 1000 } };
        await using var a = await StartNodeAsync(database, alerting);
        await using var b = await StartNodeAsync(database, alerting);

        for (var round = 1; round <= Rounds; round++)
        {
            // Every host beats through both servers, then all fall silent at once; both servers sweep all the time.
            for (var i = 0; i < Hosts; i++)
            {
                await (i % 2 == 0 ? a : b).BeatAsync($$"""{"host": "host-{{i}}", "interval": 1}""");
                await (i % 2 == 0 ? b : a).BeatAsync($$"""{"host": "host-{{i}}", "interval": 1}""");
            }

            var downs = round * Hosts;
            await Eventually.TrueAsync(
                async () => (await PostgresFixture.QueryAsync<long>(database, "SELECT count(*) FROM events WHERE kind = 'Down'"))[0] >= downs,
                $"{downs} downs", TimeSpan.FromSeconds(30));
        }

        await Eventually.TrueAsync(
            async () => (await PostgresFixture.QueryAsync<long>(database, "SELECT count(*) FROM outbox WHERE state <> 'delivered'"))[0] == 0,
            "every alert delivered", TimeSpan.FromSeconds(30));
        var events = await PostgresFixture.QueryAsync<string>(database, "SELECT kind FROM events WHERE kind IN ('Down', 'Recovered')");
        Assert.Equal((Hosts * Rounds, Hosts * (Rounds - 1)), (events.Count(k => k == "Down"), events.Count(k => k == "Recovered")));
        var deliveries = receiver.Requests.Select(r => r.Headers["Idempotency-Key"]).ToList();
        Assert.Equal(Hosts * ((2 * Rounds) - 1), deliveries.Count);
        Assert.Equal(deliveries.Count, deliveries.Distinct().Count());
        var logged = HeartbeatLogFile.ReadMessages(a.LogPath).Concat(HeartbeatLogFile.ReadMessages(b.LogPath));
        Assert.Equal(Hosts * Rounds, logged.Count(m => m.StartsWith("Host down", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task AnAlertAServerWasSendingWhenItStoppedIsSentByAnotherOnceItsLeaseRunsOut()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.HoldNext(1);
        Func<ServerOptions, ServerOptions> alerting = o => o with { Notify = o.Notify with { Webhooks = [WebhookSpec.Parse($"{receiver.Url}#down")], AttemptTimeout = TimeSpan.FromSeconds(3) } };
        var a = await StartNodeAsync(database, alerting);
        await a.BeatAsync("""{"host": "orphan", "interval": 1}""");
        await receiver.WaitForAsync(r => r.Body.Contains("Host down - orphan", StringComparison.Ordinal), "server A's attempt, held unanswered");

        await a.DisposeAsync(); // mid-delivery: its claim on the alert stands until the lease (3 s attempt + 5 s) runs out
        await using var b = await StartNodeAsync(database, alerting);

        var delivered = await receiver.WaitForAsync(r => !r.AnsweredWithFailure, "server B's delivery", TimeSpan.FromSeconds(30));
        Assert.Equal(2, receiver.Requests.Count);
        Assert.Equal(receiver.Requests[0].Headers["Idempotency-Key"], delivered.Headers["Idempotency-Key"]);
        Assert.Equal([1L], await PostgresFixture.QueryAsync<long>(database, "SELECT count(*) FROM events WHERE kind = 'Down'"));
        await Eventually.TrueAsync(
            async () => await PostgresFixture.QueryAsync<string>(database, "SELECT state FROM outbox") is ["delivered"],
            "the alert delivered, once, in the outbox");
    }

    [Fact]
    public async Task AServerLeavesAlertsForTargetsItDoesNotHaveToServersThatDo()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var node = await StartNodeAsync(database, o => o with { Notify = o.Notify with { Webhooks = [WebhookSpec.Parse(receiver.Url.ToString())] } });
        var own = (await node.GetJsonAsync("/api/v1/notifiers"))[0].GetProperty("key").GetString()!;

        // Two alerts queued by other servers: one for a target only they have, then one for this server's.
        var payload = Notify.Notification.Test(DateTimeOffset.UtcNow).ToJson().Replace("'", "''", StringComparison.Ordinal);
        await PostgresFixture.QueryAsync<long>(database, $"""
            INSERT INTO outbox (target, payload, state, attempts, next_attempt_at, created_at, updated_at)
            VALUES ('webhook-elsewhere', '{payload}', 'pending', 0, 0, 0, 0), ('{own}', '{payload}', 'pending', 0, 0, 0, 0)
            RETURNING id
            """);
        await receiver.WaitForAsync(r => r.Body.Contains("Test notification", StringComparison.Ordinal), "this server's alert");

        // The claim that took this server's alert passed over the other (it comes first): untouched, still waiting.
        Assert.Equal(
            ["pending 0 unclaimed"],
            await PostgresFixture.QueryAsync<string>(
                database, "SELECT state || ' ' || attempts || ' ' || coalesce(lease_until::text, 'unclaimed') FROM outbox WHERE target = 'webhook-elsewhere'"));
    }

    [Fact]
    public async Task WhilePostgresIsAwayBeatsAreAcknowledgedAndReachTheStoreOnceItIsBack()
    {
        await using var own = await PostgresFixture.StartOwnServerAsync();
        var database = await own.CreateDatabaseAsync();
        await using var node = await StartNodeAsync(database);
        await node.BeatAsync("""{"host": "steady"}""");
        await Eventually.TrueAsync(async () => await BeatsAsync(database, "steady") == 1, "the first beat in the store");

        await own.StopAsync();
        for (var beat = 0; beat < 5; beat++)
        {
            await node.BeatAsync("""{"host": "steady"}""");
        }

        await node.BeatAsync("""{"host": "newcomer"}""");
        using (var health = await node.Client.GetAsync("/healthz", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        }

        await own.StartAgainAsync();
        await Eventually.TrueAsync(async () => await BeatsAsync(database, "steady") == 6 && await BeatsAsync(database, "newcomer") == 1, "the beats taken while it was away, in the store", TimeSpan.FromSeconds(30));
        Assert.Equal(7, node.HeartbeatMessages().Length);
        await Eventually.TrueAsync(async () => await node.FindHostAsync("newcomer") is not null, "the newcomer on the server's page");
    }

    [Fact]
    public async Task WhilePostgresIsAwayWhatWaitsIsBoundedBeatsPastItGet503AndLeaveNoLineAndAllIsWrittenOnceItIsBack()
    {
        const int limit = 10;
        await using var own = await PostgresFixture.StartOwnServerAsync();
        var database = await own.CreateDatabaseAsync();
        await using var node = await StartNodeAsync(database, o => InProcessServer.WithoutRateLimits(o) with { Store = o.Store with { FleetMaxWaiting = limit } });
        await node.BeatAsync("""{"host": "steady"}""");
        await Eventually.TrueAsync(async () => await BeatsAsync(database, "steady") == 1, "the first beat in the store");

        await own.StopAsync();
        for (var beat = 1; beat < limit; beat++)
        {
            await node.BeatAsync("""{"host": "steady"}""");
        }

        await node.BeatAsync("""{"host": "last-one-in"}""");
        using (var refused = await node.PostAsync("""{"host": "steady"}"""))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.Contains("--fleet-max-waiting", await refused.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        }

        Assert.Equal(limit + 1, node.HeartbeatMessages().Length); // the refused beat left no line
        Assert.Equal(1, node.Metrics.HeartbeatsRejected.WithLabels("store_backlog").Value);

        await own.StartAgainAsync();
        await Eventually.TrueAsync(
            async () => await BeatsAsync(database, "steady") == limit && await BeatsAsync(database, "last-one-in") == 1,
            "every acknowledged beat in the store", TimeSpan.FromSeconds(30));
        await Eventually.TrueAsync(async () => (await node.PostAsync("""{"host": "steady"}""")).StatusCode == HttpStatusCode.OK, "beats taken again");
    }

    [Fact]
    public async Task ConcurrentFirstStartsMigrateOnce()
    {
        var database = await postgres.CreateDatabaseAsync();

        var nodes = await Task.WhenAll(StartNodeAsync(database), StartNodeAsync(database), StartNodeAsync(database));
        try
        {
            Assert.Equal([PostgresSchema.Version], await PostgresFixture.QueryAsync<int>(database, "SELECT version FROM schema_migrations"));
            foreach (var node in nodes)
            {
                using var health = await node.Client.GetAsync("/healthz", TestContext.Current.CancellationToken);
                Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            }
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task AHostBeatingThroughEitherServerInTurnKeepsEveryBeatWhoeverWroteItLast()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var a = await StartNodeAsync(database);
        await using var b = await StartNodeAsync(database);

        // A server takes a row it wrote last as it holds it; one the other server wrote since, it must read again.
        var turns = new[] { a, a, b, a, b, b, a, a };
        for (var i = 0; i < turns.Length; i++)
        {
            await turns[i].BeatAsync($$"""{"host": "roamer", "ip": "10.0.1.{{i + 1}}"}""");
            var beats = i + 1;
            await Eventually.TrueAsync(async () => await BeatsAsync(database, "roamer") == beats, $"beat {beats} in the store");
        }

        var stored = await PostgresFixture.QueryAsync<string>(database, "SELECT beats || ' ' || ip_changes || ' ' || reported_ip FROM hosts WHERE id = 'roamer'");
        Assert.Equal([$"{turns.Length} {turns.Length - 1} 10.0.1.{turns.Length}"], stored);
        foreach (var node in new[] { a, b })
        {
            await Eventually.TrueAsync(
                async () => await node.FindHostAsync("roamer") is { } host && host.GetProperty("beats").GetInt32() == turns.Length,
                "every beat on both servers");
        }
    }

    [Fact]
    public async Task AHostForgottenThroughOneServerComesBackAsNewWhenItBeatsThroughTheOther()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var a = await StartNodeAsync(database);
        await using var b = await StartNodeAsync(database);
        await a.BeatAsync("""{"host": "phoenix", "ip": "10.0.2.1"}""");
        await a.BeatAsync("""{"host": "phoenix", "ip": "10.0.2.1"}""");
        await Eventually.TrueAsync(async () => await BeatsAsync(database, "phoenix") == 2, "both beats in the store");
        await Eventually.TrueAsync(async () => await b.FindHostAsync("phoenix") is not null, "the host on the other server");

        using var forget = await b.Client.DeleteAsync("/api/v1/hosts/phoenix", TestContext.Current.CancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.NoContent, forget.StatusCode);
        await Eventually.TrueAsync(async () => await BeatsAsync(database, "phoenix") == 0, "the row gone");

        // The server that wrote the row last finds it gone, and makes it again, as a new host's.
        await a.BeatAsync("""{"host": "phoenix", "ip": "10.0.2.9"}""");
        await Eventually.TrueAsync(async () => await BeatsAsync(database, "phoenix") == 1, "the beat in the store");
        var stored = await PostgresFixture.QueryAsync<string>(database, "SELECT beats || ' ' || ip_changes || ' ' || reported_ip FROM hosts WHERE id = 'phoenix'");
        Assert.Equal(["1 0 10.0.2.9"], stored);
        await Eventually.TrueAsync(
            async () => await b.FindHostAsync("phoenix") is { } host && host.GetProperty("beats").GetInt32() == 1,
            "the new host on the other server");
    }

    private static async Task<long> BeatsAsync(string database, string host)
    {
        try
        {
            return (await PostgresFixture.QueryAsync<long>(database, $"SELECT coalesce(sum(beats), 0) FROM hosts WHERE id = '{host}'"))[0];
        }
        catch (Npgsql.NpgsqlException)
        {
            return -1; // not back yet
        }
    }

    internal static Task<InProcessServer> StartNodeAsync(string database, Func<ServerOptions, ServerOptions>? configure = null) =>
        InProcessServer.StartAsync(o =>
        {
            var configured = configure?.Invoke(o) ?? o;
            return configured with { Store = configured.Store with { Kind = StoreKind.Postgres, Postgres = database } };
        });
}
