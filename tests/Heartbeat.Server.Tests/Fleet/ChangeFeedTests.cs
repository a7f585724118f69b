using Heartbeat.Server.Hosts;
using Heartbeat.Server.Storage;
using Heartbeat.Server.Tests.Infrastructure;

namespace Heartbeat.Server.Tests.Fleet;

/// <summary>
/// How a fleet server learns what the others wrote: the change feed names the hosts each write touched, and a server
/// the feed no longer reaches back for reads every row instead of missing any.
/// </summary>
public sealed class ChangeFeedTests(PostgresFixture postgres) : IAsyncDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 2, 8, 11, 30, 0, TimeSpan.Zero);
    private static readonly TimeSpan PauseThreshold = TimeSpan.FromSeconds(30);

    private readonly List<PostgresHostStore> _opened = [];
    private string? _database;

    [Fact]
    public async Task AServerReadsTheHostsTheOthersWroteSinceItsCursorAndNotItsOwn()
    {
        var (a, b) = (await OpenAsync(), await OpenAsync());
        var cursor = b.LoadCursor;

        await WriteAsync(a, Host("web1"));
        await WriteAsync(b, Host("db1"));
        var updates = await b.ReadUpdatesAsync(cursor, TestContext.Current.CancellationToken);

        Assert.Equal(["web1"], updates.Hosts.Select(h => h.Id));
    }

    [Fact]
    public async Task AServerTheFeedNoLongerReachesBackForReadsEveryRowTheOthersWrote()
    {
        var (a, b) = (await OpenAsync(), await OpenAsync());
        var cursor = b.LoadCursor;
        await WriteAsync(a, Host("web1"), Host("web2"));

        // As if the sweeps had pruned the feed past b's cursor while b could not read it.
        await QueryAsync("DELETE FROM host_writes; UPDATE fleet SET writes_from = pg_current_xact_id()::text::bigint; SELECT 1");
        var updates = await b.ReadUpdatesAsync(cursor, TestContext.Current.CancellationToken);

        Assert.Equal(["web1", "web2"], updates.Hosts.Select(h => h.Id).Order());
    }

    [Fact]
    public async Task ASweepPrunesWritesTheFeedHasKeptLongEnoughAndSaysFromWhereItIsWhole()
    {
        var store = await OpenAsync();
        await QueryAsync("INSERT INTO host_writes (at, written_by, ids) VALUES (0, 'gone', '{web1}'); SELECT 1");
        await WriteAsync(store, Host("web2"));

        await SweepAsync(store, Start);

        Assert.Equal(["{web2}"], await QueryAsync<string>("SELECT ids::text FROM host_writes"));
        Assert.True((await QueryAsync<long>("SELECT writes_from FROM fleet"))[0] > 0);
    }

    [Fact]
    public async Task WhenTheWholeFleetStoodStillEveryServerReadsEveryDeadlineMovedItsOwnRowsToo()
    {
        var (a, b) = (await OpenAsync(), await OpenAsync());
        await WriteAsync(a, Host("web1"));
        await WriteAsync(b, Host("db1"));
        var cursor = (await b.ReadUpdatesAsync(b.LoadCursor, TestContext.Current.CancellationToken)).Cursor;
        await SweepAsync(b, Start);

        await SweepAsync(b, Start.AddHours(1));
        var updates = await b.ReadUpdatesAsync(cursor, TestContext.Current.CancellationToken);

        Assert.Equal(
            [("db1", Start.AddMinutes(2).AddHours(1)), ("web1", Start.AddMinutes(2).AddHours(1))],
            updates.Hosts.Select(h => (h.Id, h.DueAt)).Order());
    }

    [Fact]
    public async Task AStoreOfSchemaFourIsUpgradedToTheFeedAndLosesTheIndexesABeatWouldUpdate()
    {
        await OpenAsync();
        await QueryAsync("""
            DROP TABLE host_writes;
            ALTER TABLE fleet DROP COLUMN writes_from;
            CREATE INDEX hosts_due ON hosts (due_at) WHERE due_at IS NOT NULL;
            CREATE INDEX hosts_txid ON hosts (txid);
            UPDATE schema_migrations SET version = 4;
            SELECT 1
            """);

        var (a, b) = (await OpenAsync(), await OpenAsync());
        await WriteAsync(a, Host("web1"));

        Assert.Equal(["hosts_pkey"], await QueryAsync<string>("SELECT indexname::text FROM pg_indexes WHERE tablename = 'hosts'"));
        Assert.Equal(["web1"], (await b.ReadUpdatesAsync(b.LoadCursor, TestContext.Current.CancellationToken)).Hosts.Select(h => h.Id));
        Assert.Equal([PostgresSchema.Version], await QueryAsync<int>("SELECT max(version) FROM schema_migrations"));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _opened)
        {
            await store.DisposeAsync();
        }
    }

    private static HostRecord Host(string id) => StoredHosts.Seen(id, Start, due: Start.AddMinutes(2));

    private static Task WriteAsync(PostgresHostStore store, params HostRecord[] hosts) =>
        store.WriteAsync(new HostChanges(hosts, [], [], []), [], TestContext.Current.CancellationToken);

    private static async Task SweepAsync(PostgresHostStore store, DateTimeOffset now)
    {
        await using var sweep = await store.BeginSweepAsync(now, PauseThreshold, [], TestContext.Current.CancellationToken);
        await sweep.Transaction.CommitAsync(TestContext.Current.CancellationToken);
    }

    private async Task<PostgresHostStore> OpenAsync()
    {
        var store = PostgresHostStore.Open(_database ??= await postgres.CreateDatabaseAsync(), TimeSpan.FromSeconds(10), () => []);
        _opened.Add(store);
        await store.LoadAsync(TestContext.Current.CancellationToken);
        return store;
    }

    private Task<List<int>> QueryAsync(string sql) => QueryAsync<int>(sql);

    private Task<List<T>> QueryAsync<T>(string sql) => PostgresFixture.QueryAsync<T>(_database!, sql);
}
