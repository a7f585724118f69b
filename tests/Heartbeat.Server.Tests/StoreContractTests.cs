using Heartbeat.Server.Hosts;
using Heartbeat.Server.Notify;
using Heartbeat.Server.Storage;
using Heartbeat.Server.Tests.Infrastructure;

namespace Heartbeat.Server.Tests;

/// <summary>What every store promises the server, run against each store: SQLite in a file, and PostgreSQL.</summary>
public abstract class StoreContractTests : IAsyncDisposable
{
    private const string Target = "webhook:http://127.0.0.1:9/hook";
    private static readonly DateTimeOffset Start = new(2026, 2, 8, 11, 30, 0, TimeSpan.Zero);

    private readonly List<IHostStore> _opened = [];

    /// <summary>The same store each call: a new instance over the same file or database, as after a restart.</summary>
    private protected abstract Task<IHostStore> OpenStoreAsync();

    [Fact]
    public async Task AHostIsLoadedBackWithEveryFieldItWasWrittenWith()
    {
        var host = EveryFieldSet("web1");
        await WriteAsync(new HostChanges([host], [], [], []));

        var (hosts, _) = await (await OpenAsync()).LoadAsync(TestContext.Current.CancellationToken);

        var loaded = Assert.Single(hosts);
        Assert.Equal(HostColumns.All.Select(c => c.Get(host)), HostColumns.All.Select(c => c.Get(loaded)));
        Assert.Equal(host.LastBody, loaded.LastBody);
        Assert.Equal(host.Gaps.Estimate, loaded.Gaps.Estimate);
    }

    [Fact]
    public async Task AHostWrittenAgainIsUpdatedInPlace()
    {
        var store = await OpenAsync();
        var host = EveryFieldSet("web1");
        await store.WriteAsync(new HostChanges([host], [], [], []), [], TestContext.Current.CancellationToken);
        host.Beats = 99;
        host.ReportedIp = null;
        host.LastBody = null;
        await store.WriteAsync(new HostChanges([host], [], [], []), [], TestContext.Current.CancellationToken);

        var (hosts, _) = await (await OpenAsync()).LoadAsync(TestContext.Current.CancellationToken);

        var loaded = Assert.Single(hosts);
        Assert.Equal((99L, null, null), (loaded.Beats, loaded.ReportedIp, loaded.LastBody));
    }

    [Fact]
    public async Task ABodyTheStoreHasAlreadyIsKeptWithItsNewTimeAndANewBodyReplacesIt()
    {
        var store = await OpenAsync();
        var host = EveryFieldSet("web1");
        await store.WriteAsync(new HostChanges([host], [], [], []), [], TestContext.Current.CancellationToken);

        // The same text sent again a minute later: only its time is new.
        host.LastBody = host.LastBody! with { At = Start.AddMinutes(6) };
        await store.WriteAsync(new HostChanges([host], [], [], []) { SameBodies = new HashSet<string> { "web1" } }, [], TestContext.Current.CancellationToken);
        Assert.Equal(host.LastBody, Assert.Single((await (await OpenAsync()).LoadAsync(TestContext.Current.CancellationToken)).Hosts).LastBody);

        host.LastBody = new PingBody(Start.AddMinutes(7), "success", "all good");
        await store.WriteAsync(new HostChanges([host], [], [], []), [], TestContext.Current.CancellationToken);
        Assert.Equal(host.LastBody, Assert.Single((await (await OpenAsync()).LoadAsync(TestContext.Current.CancellationToken)).Hosts).LastBody);
    }

    [Fact]
    public async Task EventsAndAddressChangesAreReadBackInOrder()
    {
        var store = await OpenAsync();
        await store.WriteAsync(
            new HostChanges(
                [EveryFieldSet("web1"), EveryFieldSet("web2")],
                [Event(1, "web1", HostEventKind.New), Event(2, "web2", HostEventKind.New), Event(3, "web1", HostEventKind.IpChanged)],
                [Address("web1", "10.0.0.1", "10.0.0.2"), Address("web1", "10.0.0.2", "10.0.0.3")],
                []),
            [],
            TestContext.Current.CancellationToken);

        var ct = TestContext.Current.CancellationToken;
        Assert.Equal([1L, 2L, 3L], (await store.ReadEventsAsync(0, 10, ct)).Select(e => e.Id));
        Assert.Equal([3L], (await store.ReadEventsAsync(2, 10, ct)).Select(e => e.Id));
        Assert.Equal([1L, 2L], (await store.ReadEventsAsync(0, 2, ct)).Select(e => e.Id));
        Assert.Equal([1L, 3L], (await store.ReadHostEventsAsync("web1", 10, ct)).Select(e => e.Id));
        Assert.Equal([3L], (await store.ReadHostEventsAsync("web1", 1, ct)).Select(e => e.Id)); // the newest
        var read = Assert.Single(await store.ReadHostEventsAsync("web2", 10, ct));
        Assert.Equal(Event(2, "web2", HostEventKind.New), read);
        Assert.Equal(["10.0.0.3", "10.0.0.2"], (await store.ReadAddressHistoryAsync("web1", 10, ct)).Select(c => c.Current));
        Assert.Equal(3, (await (await OpenAsync()).LoadAsync(ct)).LastEventId);
    }

    [Fact]
    public async Task AChangeThatStandsForSeveralIsReadBackWithItsCount()
    {
        var store = await OpenAsync();
        var ct = TestContext.Current.CancellationToken;
        var folded = Event(1, "vps", HostEventKind.IpChanged) with { Changes = 4 };
        await store.WriteAsync(new HostChanges([EveryFieldSet("vps")], [folded], [Address("vps", "10.0.0.1", "10.0.0.5") with { Changes = 4 }], []), [], ct);

        Assert.Equal(folded, Assert.Single(await store.ReadHostEventsAsync("vps", 10, ct)));
        Assert.Equal(4, Assert.Single(await store.ReadAddressHistoryAsync("vps", 10, ct)).Changes);
    }

    [Fact]
    public async Task AForgottenHostGoesWithItsHistory()
    {
        var store = await OpenAsync();
        var ct = TestContext.Current.CancellationToken;
        await store.WriteAsync(new HostChanges([EveryFieldSet("gone"), EveryFieldSet("kept")], [Event(1, "gone", HostEventKind.New)], [Address("gone", "a", "b")], []), [], ct);
        await store.WriteAsync(new HostChanges([], [], [], ["gone"]), [], ct);

        Assert.Equal(["kept"], (await (await OpenAsync()).LoadAsync(ct)).Hosts.Select(h => h.Id));
        Assert.Empty(await store.ReadHostEventsAsync("gone", 10, ct));
        Assert.Empty(await store.ReadAddressHistoryAsync("gone", 10, ct));
    }

    [Fact]
    public async Task AHostForgottenAndWrittenAgainInOneBatchIsKeptAsWritten()
    {
        await WriteAsync(new HostChanges([EveryFieldSet("phoenix")], [], [], []));
        var again = StoredHosts.Seen("phoenix", Start.AddHours(1), due: Start.AddHours(2), peer: "10.0.0.7");

        await WriteAsync(new HostChanges([again], [], [], ["phoenix"]));

        var (hosts, _) = await (await OpenAsync()).LoadAsync(TestContext.Current.CancellationToken);
        var loaded = Assert.Single(hosts);
        Assert.Equal((1L, "10.0.0.7", Start.AddHours(1)), (loaded.Beats, loaded.Peer, loaded.FirstSeen));
    }

    [Fact]
    public async Task EachHostKeepsItsNewestHistoryOnly()
    {
        var store = await OpenAsync();
        var ct = TestContext.Current.CancellationToken;
        var extra = 5;
        var events = Enumerable.Range(1, IHostStore.HistoryPerHost + extra).Select(i => Event(i, "busy", HostEventKind.IpChanged)).ToList();
        var addresses = Enumerable.Range(1, IHostStore.HistoryPerHost + extra).Select(i => Address("busy", $"10.0.0.{i - 1}", $"10.0.0.{i}")).ToList();
        await store.WriteAsync(new HostChanges([EveryFieldSet("busy")], events, addresses, []), [], ct);

        var kept = await store.ReadHostEventsAsync("busy", 1000, ct);
        Assert.Equal(Enumerable.Range(1 + extra, IHostStore.HistoryPerHost).Select(i => (long)i), kept.Select(e => e.Id));
        var history = await store.ReadAddressHistoryAsync("busy", 1000, ct);
        Assert.Equal(IHostStore.HistoryPerHost, history.Count);
        Assert.Equal($"10.0.0.{IHostStore.HistoryPerHost + extra}", history[0].Current);
    }

    [Fact]
    public async Task FlushByFlushAHostsHistoryStaysWithinItsSlackAndReadsShowTheNewest()
    {
        var store = await OpenAsync();
        var ct = TestContext.Current.CancellationToken;
        const int Flushes = 3 * IHostStore.HistoryPerHost;
        static string Ip(int i) => $"10.0.{i / 250}.{i % 250}";
        for (var i = 1; i <= Flushes; i++)
        {
            await store.WriteAsync(new HostChanges([EveryFieldSet("moving")], [Event(i, "moving", HostEventKind.IpChanged)], [Address("moving", Ip(i - 1), Ip(i))], []), [], ct);
            Assert.InRange((await store.ReadHostEventsAsync("moving", 1000, ct)).Count, Math.Min(i, IHostStore.HistoryPerHost), IHostStore.HistoryPerHost + IHostStore.HistorySlack);
        }

        var newest = await store.ReadHostEventsAsync("moving", IHostStore.HistoryPerHost, ct);
        Assert.Equal(Enumerable.Range(Flushes - IHostStore.HistoryPerHost + 1, IHostStore.HistoryPerHost).Select(i => (long)i), newest.Select(e => e.Id));
        var addresses = await store.ReadAddressHistoryAsync("moving", 1000, ct);
        Assert.InRange(addresses.Count, IHostStore.HistoryPerHost, IHostStore.HistoryPerHost + IHostStore.HistorySlack);
        Assert.Equal(Ip(Flushes), addresses[0].Current);
    }

    [Fact]
    public async Task AHostsHistoryStaysWithinItsSlackAcrossRestarts()
    {
        var ct = TestContext.Current.CancellationToken;
        const int Flushes = 2 * IHostStore.HistoryPerHost;
        for (var i = 1; i <= Flushes; i++)
        {
            var store = await OpenAsync(); // a server that restarts after every flush
            await store.WriteAsync(new HostChanges([EveryFieldSet("rebooting")], [Event(i, "rebooting", HostEventKind.Rebooted)], [], []), [], ct);
            Assert.InRange((await store.ReadHostEventsAsync("rebooting", 1000, ct)).Count, Math.Min(i, IHostStore.HistoryPerHost), IHostStore.HistoryPerHost + IHostStore.HistorySlack);
        }
    }

    [Fact]
    public async Task NotificationsWaitInTheOutboxUntilDeliveredOrParked()
    {
        var store = await OpenAsync();
        var ct = TestContext.Current.CancellationToken;
        var down = Event(1, "web1", HostEventKind.Down);
        await store.WriteAsync(new HostChanges([EveryFieldSet("web1")], [down], [], []), [new PendingNotification(Target, Notification.From(down, Start))], ct);
        await store.EnqueueNotificationsAsync([new PendingNotification(Target, Notification.Test(Start))], ct);

        var due = await store.ReadDueNotificationsAsync(Start, 10, ct);
        Assert.Equal(["1", $"test-{Start.ToUnixTimeMilliseconds()}"], due.Select(e => e.Notification.EventId));
        Assert.Equal("Host down - web1", due[0].Notification.Summary);

        await store.RecordDeliveryAsync(new DeliveryOutcome(due[0].Id, Delivered: true, 1, Start, null, null), ct);
        await store.RecordDeliveryAsync(new DeliveryOutcome(due[1].Id, Delivered: false, 1, Start, Start + TimeSpan.FromMinutes(1), "connection refused"), ct);
        Assert.Empty(await store.ReadDueNotificationsAsync(Start + TimeSpan.FromSeconds(59), 10, ct));
        var retry = Assert.Single(await store.ReadDueNotificationsAsync(Start + TimeSpan.FromMinutes(1), 10, ct));
        Assert.Equal((due[1].Id, 1), (retry.Id, retry.Attempts));

        await store.RecordDeliveryAsync(new DeliveryOutcome(retry.Id, Delivered: false, 2, Start + TimeSpan.FromMinutes(1), null, "HTTP 500"), ct);
        var stats = Assert.Single(await store.ReadNotifierStatsAsync(ct));
        Assert.Equal((Target, 0, 1, 1, Start, "HTTP 500"), (stats.Target, stats.Pending, stats.Parked, stats.Delivered, stats.LastDelivered, stats.LastError));

        await store.PruneDeliveredAsync(Start + TimeSpan.FromSeconds(1), ct);
        Assert.Equal(0, Assert.Single(await store.ReadNotifierStatsAsync(ct)).Delivered);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _opened)
        {
            await store.DisposeAsync();
        }

        CleanUp();
        GC.SuppressFinalize(this);
    }

    /// <summary>Removes what the store left behind, once every instance is closed.</summary>
    protected virtual void CleanUp()
    {
    }

    private protected async Task<IHostStore> OpenAsync()
    {
        var store = await OpenStoreAsync();
        _opened.Add(store);
        await store.LoadAsync(TestContext.Current.CancellationToken); // creates the schema
        return store;
    }

    private async Task WriteAsync(HostChanges changes) => await (await OpenAsync()).WriteAsync(changes, [], TestContext.Current.CancellationToken);

    private protected static HostRecord EveryFieldSet(string id)
    {
        var host = new HostRecord(id)
        {
            ReportedIp = "192.168.1.53",
            Peer = "10.0.0.9",
            FirstSeen = Start,
            LastSeen = Start.AddMinutes(5),
            Beats = 6,
            Message = "disk 97% full",
            ClientStatus = HeartbeatStatus.Fail,
            DeclaredInterval = TimeSpan.FromSeconds(90),
            LearnedInterval = TimeSpan.FromSeconds(61),
            DeclaredMisses = 3,
            State = HostState.Failing,
            StateSince = Start.AddMinutes(4),
            IpChanges = 2,
            MaintenanceUntil = Start.AddHours(1),
            BootId = "b2",
            PreviousBootId = "b1",
            DuplicateSeenAt = Start.AddMinutes(3),
            ClockSkew = TimeSpan.FromSeconds(-125),
            Group = "office",
            StartedAt = Start.AddMinutes(2),
            LastRunTime = TimeSpan.FromSeconds(42),
            LastBody = new PingBody(Start.AddMinutes(5), "fail", "rsync: connection unexpectedly closed"),
            PauseCredit = TimeSpan.FromSeconds(7),
            DueAt = Start.AddMinutes(7),
        };
        foreach (var gap in new[] { 60.5, 61, 59.25 })
        {
            host.Gaps.Add(TimeSpan.FromSeconds(gap));
        }

        return host;
    }

    private static HostEvent Event(long id, string host, HostEventKind kind) =>
        new(Start.AddSeconds(id), host, kind, HostState.Down, "10.0.0.1", kind == HostEventKind.IpChanged ? "10.0.0.0" : null, Start, TimeSpan.FromSeconds(60),
            kind == HostEventKind.Down ? $"Host down - {host}" : $"event {id}")
        { Id = id };

    private static AddressChange Address(string host, string previous, string current) => new(Start, host, AddressKind.Reported, previous, current);
}

public sealed class PostgresStoreContractTests(PostgresFixture postgres) : StoreContractTests
{
    private string? _database;

    private protected override async Task<IHostStore> OpenStoreAsync() =>
        PostgresHostStore.Open(_database ??= await postgres.CreateDatabaseAsync(), TimeSpan.FromSeconds(10), () => ["webhook:http://127.0.0.1:9/hook"]);

    [Fact]
    public async Task HistoryFromBeforeChangesWereCountedReadsAsOneChangeEach()
    {
        var ct = TestContext.Current.CancellationToken;
        await OpenAsync();

        // Back to schema 3, with a row of each written then.
        await PostgresFixture.QueryAsync<int>(_database!, """
            ALTER TABLE events DROP COLUMN changes;
            ALTER TABLE address_changes DROP COLUMN changes;
            UPDATE schema_migrations SET version = 3;
            INSERT INTO events (id, at, host_id, kind, state, ip, previous_ip, last_seen, expected_interval_ms, summary)
                VALUES (7, 60000, 'vps', 'IpChanged', 'Up', '10.0.0.2', '10.0.0.1', 60000, 60000, 'Host IP changed - vps (10.0.0.1 -> 10.0.0.2)');
            INSERT INTO address_changes (at, host_id, kind, previous, current) VALUES (60000, 'vps', 'Reported', '10.0.0.1', '10.0.0.2');
            SELECT 1
            """);

        var store = await OpenAsync();

        Assert.Equal((7L, 1), Assert.Single(await store.ReadHostEventsAsync("vps", 10, ct)) is var e ? (e.Id, e.Changes) : default);
        Assert.Equal(("10.0.0.2", 1), Assert.Single(await store.ReadAddressHistoryAsync("vps", 10, ct)) is var c ? (c.Current, c.Changes) : default);
        Assert.Equal([PostgresSchema.Version], await PostgresFixture.QueryAsync<int>(_database!, "SELECT max(version) FROM schema_migrations"));
    }
}
