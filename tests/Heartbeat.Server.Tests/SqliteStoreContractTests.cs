using Heartbeat.Server.Hosts;
using Heartbeat.Server.Storage;
using Microsoft.Data.Sqlite;

namespace Heartbeat.Server.Tests;

public sealed class SqliteStoreContractTests : StoreContractTests
{
    private readonly TempDirectory _directory = new();

    private protected override Task<IHostStore> OpenStoreAsync() => Task.FromResult<IHostStore>(SqliteHostStore.OpenFile(_directory.File("heartbeat.db")));

    [Fact]
    public async Task AFlushFindsTheHostsDueForAPruneThroughAnIndexNotAScanOfEveryHost()
    {
        await OpenAsync();
        await using var connection = new SqliteConnection($"Data Source={_directory.File("heartbeat.db")}");
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"EXPLAIN QUERY PLAN SELECT id FROM hosts WHERE {SqliteSchema.DueForPrune}";
        await using var plan = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);

        Assert.True(await plan.ReadAsync(TestContext.Current.CancellationToken));
        Assert.Equal("SCAN hosts USING INDEX hosts_to_prune", plan.GetString(3));
    }

    [Fact]
    public async Task AFileWhoseHostsKeptTheirBodiesInTheirRowsKeepsThemAfterTheUpgrade()
    {
        // Schema 6: every column in the hosts row.
        await using (var connection = new SqliteConnection($"Data Source={_directory.File("heartbeat.db")}"))
        {
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = $"""
                CREATE TABLE hosts ({string.Join(", ", HostColumns.All.Select(c => $"{c.Name} {c.SqliteType}"))}, PRIMARY KEY (id)) WITHOUT ROWID;
                INSERT INTO hosts (id, peer, first_seen, last_seen, beats, client_status, state, state_since, ip_changes, body_at, body_kind, body)
                VALUES ('backup', '10.0.0.9', 0, 60000, 3, 'Fail', 'Failing', 60000, 0, 60000, 'fail', 'rsync: connection unexpectedly closed');
                PRAGMA user_version = 6;
                """;
            await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        await using var store = await OpenStoreAsync();
        var (hosts, _) = await store.LoadAsync(TestContext.Current.CancellationToken);

        Assert.Equal(new PingBody(DateTimeOffset.FromUnixTimeMilliseconds(60000), "fail", "rsync: connection unexpectedly closed"), Assert.Single(hosts).LastBody);
    }

    [Fact]
    public async Task HistoryFromBeforeChangesWereCountedReadsAsOneChangeEach()
    {
        // Schema 7: events and address changes without a count.
        await using (var connection = new SqliteConnection($"Data Source={_directory.File("heartbeat.db")}"))
        {
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = """
                CREATE TABLE events (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, host_id TEXT NOT NULL, kind TEXT NOT NULL, state TEXT NOT NULL,
                    ip TEXT NOT NULL, previous_ip TEXT, last_seen INTEGER NOT NULL, expected_interval_ms INTEGER NOT NULL, summary TEXT NOT NULL);
                INSERT INTO events VALUES (7, 60000, 'vps', 'IpChanged', 'Up', '10.0.0.2', '10.0.0.1', 60000, 60000, 'Host IP changed - vps (10.0.0.1 -> 10.0.0.2)');
                CREATE TABLE address_changes (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, host_id TEXT NOT NULL, kind TEXT NOT NULL, previous TEXT, current TEXT);
                INSERT INTO address_changes (at, host_id, kind, previous, current) VALUES (60000, 'vps', 'Reported', '10.0.0.1', '10.0.0.2');
                PRAGMA user_version = 7;
                """;
            await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        await using var store = await OpenStoreAsync();
        var ct = TestContext.Current.CancellationToken;
        Assert.Equal(7, (await store.LoadAsync(ct)).LastEventId);

        Assert.Equal((7L, 1), Assert.Single(await store.ReadHostEventsAsync("vps", 10, ct)) is var e ? (e.Id, e.Changes) : default);
        Assert.Equal(("10.0.0.2", 1), Assert.Single(await store.ReadAddressHistoryAsync("vps", 10, ct)) is var c ? (c.Current, c.Changes) : default);
    }

    [Fact]
    public async Task HostsBehindOneAddressShareOneCopyOfItWhenLoaded()
    {
        // Behind a proxy or a NAT every host has the same peer: a million copies of it would take 40 MB.
        var ct = TestContext.Current.CancellationToken;
        var hosts = Enumerable.Range(1, 3).Select(i => new HostRecord($"web{i}") { Peer = "192.0.2.1", Group = "rack 1", ReportedIp = $"10.0.0.{i}" }).ToList();
        await (await OpenAsync()).WriteAsync(new HostChanges(hosts, [], [], []), [], ct);

        var (loaded, _) = await (await OpenAsync()).LoadAsync(ct);

        Assert.Equal(["192.0.2.1", "rack 1"], loaded.SelectMany(h => new[] { h.Peer, h.Group }).Distinct());
        Assert.Single(loaded.Select(h => h.Peer).Distinct(ReferenceEqualityComparer.Instance));
        Assert.Single(loaded.Select(h => h.Group).Distinct(ReferenceEqualityComparer.Instance));
        Assert.Equal(["10.0.0.1", "10.0.0.2", "10.0.0.3"], loaded.Select(h => h.ReportedIp));
    }

    [Fact]
    public async Task AStoreLargeEnoughToBeReadFromBothEndsLoadsEveryHostOnceInIdOrder()
    {
        // Two threads read it, one up from the first id and one down from the last: no host may be lost or read twice
        // where they meet.
        var ct = TestContext.Current.CancellationToken;
        var hosts = Enumerable.Range(0, SqliteHostStore.ReadFromBothEndsFrom + 1).Select(i => new HostRecord($"host-{i}") { Peer = "192.0.2.1" }).ToList();
        hosts[^1] = EveryFieldSet(hosts[^1].Id);
        await (await OpenAsync()).WriteAsync(new HostChanges(hosts, [], [], []), [], ct);

        var (loaded, _) = await (await OpenAsync()).LoadAsync(ct);

        Assert.Equal(hosts.Select(h => h.Id).Order(StringComparer.Ordinal), loaded.Select(h => h.Id));
        var everyField = loaded.Single(h => h.Id == hosts[^1].Id);
        Assert.Equal(HostColumns.All.Select(c => c.Get(hosts[^1])), HostColumns.All.Select(c => c.Get(everyField)));
        Assert.Equal(hosts[^1].LastBody, everyField.LastBody);
    }

    protected override void CleanUp() => _directory.Dispose();
}
