using System.Text;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Notify;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using static Heartbeat.Server.Storage.SqliteCommands;

namespace Heartbeat.Server.Storage;

// The embedded store: one SQLite file in WAL mode, so the API reads while the flusher writes. Times are
// kept as UTC Unix milliseconds; the schema version lives in PRAGMA user_version.
//
// The file is opened afresh (not pooled) for every use, so that one deleted or replaced under the running server is
// noticed rather than written to unseen: every write leaves a random token in store_state, and a token other than the
// last one this server wrote means someone else's file is at the path now (a copy put back, another server's). A
// missing file is created again. Either way WriteAsync says so with StoreReplacedException, and the flusher writes every host.
internal sealed partial class SqliteHostStore : IHostStore
{
    // Inserts a host, or updates every column of one already stored, and adds the rows its history gained (the last
    // parameter) to those since its last prune; its body goes apart (see SqliteSchema).
    private static readonly string UpsertHost = $"""
        INSERT INTO hosts ({string.Join(", ", HostColumns.Small.Select(c => c.Name))}, unpruned)
        VALUES ({string.Join(", ", HostColumns.Small.Select((_, i) => $"${i}"))}, ${HostColumns.Small.Count})
        ON CONFLICT (id) DO UPDATE SET {string.Join(", ", HostColumns.Small.Skip(1).Select(c => $"{c.Name} = excluded.{c.Name}"))},
            unpruned = hosts.unpruned + excluded.unpruned
        """;

    private static readonly string UpsertBody = $"""
        INSERT INTO host_bodies (host_id, {string.Join(", ", HostColumns.Bulky.Select(c => c.Name))})
        VALUES ($0, {string.Join(", ", HostColumns.Bulky.Select((_, i) => $"${i + 1}"))})
        ON CONFLICT (host_id) DO UPDATE SET {string.Join(", ", HostColumns.Bulky.Select(c => $"{c.Name} = excluded.{c.Name}"))}
        """;

    // Every host with its body, columns in the order Small then Bulky.
    private static readonly string SelectHosts = $"""
        SELECT {string.Join(", ", HostColumns.Small.Select(c => $"hosts.{c.Name}").Concat(HostColumns.Bulky.Select(c => $"b.{c.Name}")))}
        FROM hosts LEFT JOIN host_bodies b ON b.host_id = hosts.id
        """;

    private static readonly IReadOnlyList<HostColumn> StoredOrder = [.. HostColumns.Small, .. HostColumns.Bulky];

    // SQLITE_CANTOPEN: the file (or its directory) is not there; SQLITE_ERROR here: a table is missing.
    private const int SQLiteCantOpen = 14;
    private const int SQLiteError = 1;

    // Below this many hosts a restore takes a moment on one thread.
    internal const int ReadFromBothEndsFrom = 50_000;

    private readonly string _connectionString;
    private readonly string? _path;

    // Held open for the store's lifetime: keeps an in-memory database alive and the file's WAL settled.
    private SqliteConnection _anchor;

    // The token of this server's last write (see store_state).
    private long _writeToken;

    private SqliteHostStore(string connectionString, string? path)
    {
        _connectionString = connectionString;
        _path = path;
        _anchor = new SqliteConnection(CreatingConnectionString);
    }

    // Opens the file only where it is: a missing one is an error to notice, not an empty store to start.
    public static SqliteHostStore OpenFile(string path) =>
        new(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false, Mode = SqliteOpenMode.ReadWrite }.ToString(), path);

    // A throwaway database that lives as long as the store (--store memory).
    public static SqliteHostStore OpenInMemory() => new(new SqliteConnectionStringBuilder
    {
        DataSource = $"heartbeat-{Guid.NewGuid():N}",
        Mode = SqliteOpenMode.Memory,
        Cache = SqliteCacheMode.Shared,
    }.ToString(), path: null);

    public string Description => _path ?? "memory";

    private string CreatingConnectionString => _path is null
        ? _connectionString
        : new SqliteConnectionStringBuilder(_connectionString) { Mode = SqliteOpenMode.ReadWriteCreate }.ToString();

    public async Task<(IReadOnlyList<HostRecord> Hosts, long LastEventId)> LoadAsync(CancellationToken cancellationToken)
    {
        try
        {
            await OpenAnchorAsync(cancellationToken);
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            throw new StoreUnavailableException($"cannot open the store '{Description}': {e.Message}", e);
        }

        var hosts = await ReadHostsAsync(cancellationToken);
        await using var command = _anchor.CreateCommand();
        command.CommandText = "SELECT coalesce(max(id), 0) FROM events";
        var lastEventId = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        return (hosts, lastEventId);
    }

    // Every stored host (a million at most), in id order, on read-only connections of their own where the store is a
    // file. SQLite decodes a row on the thread that steps it, and that is most of a restore's time: a large store is
    // read from both ends at once, one thread up from the first id and one down from the last, until together they
    // have read as many rows as were counted. Neither waits for the other at a middle fixed beforehand (halves split at
    // the middle id finished a quarter of a second apart). Nothing else writes before the server listens.
    private async Task<List<HostRecord>> ReadHostsAsync(CancellationToken cancellationToken)
    {
        if (_path is null)
        {
            return ReadRows(_anchor.Handle!, SelectHosts, RowShares.ForOneReader(), capacity: 0, cancellationToken);
        }

        var count = await CountAsync(cancellationToken);
        if (count < ReadFromBothEndsFrom)
        {
            return ReadFile(SelectHosts, RowShares.ForOneReader(), count, cancellationToken);
        }

        var shares = new RowShares(count);
        var ends = await Task.WhenAll(
            Task.Run(() => ReadFile($"{SelectHosts} ORDER BY hosts.id", shares, capacity: count, cancellationToken), cancellationToken),
            Task.Run(() => ReadFile($"{SelectHosts} ORDER BY hosts.id DESC", shares, capacity: count / 2, cancellationToken), cancellationToken));
        var (up, down) = (ends[0], ends[1]);

        // Rows deleted since the count (nothing should delete them) would have both threads read past each other.
        while (down.Count > 0 && up.Count > 0 && SqliteOrder(down[^1].Id, up[^1].Id) <= 0)
        {
            down.RemoveAt(down.Count - 1);
        }

        down.Reverse();
        up.AddRange(down);
        return up;
    }

    // SQLite's own order of TEXT keys (BINARY: their UTF-8 bytes), which differs from ordinal order past U+FFFF.
    private static int SqliteOrder(string a, string b) => Encoding.UTF8.GetBytes(a).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(b));

    private async Task<int> CountAsync(CancellationToken cancellationToken)
    {
        await using var command = _anchor.CreateCommand();
        command.CommandText = "SELECT count(*) FROM hosts";
        return (int)(long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private List<HostRecord> ReadFile(string sql, RowShares shares, int capacity, CancellationToken cancellationToken)
    {
        using var own = RowQuery.OpenReadOnly(_path!);
        return ReadRows(own, sql, shares, capacity, cancellationToken);
    }

    private static List<HostRecord> ReadRows(sqlite3 database, string sql, RowShares shares, int capacity, CancellationToken cancellationToken)
    {
        using var rows = new RowQuery(database, sql);
        var hosts = new List<HostRecord>(capacity);
        for (var left = shares.Claim(); left > 0 && rows.Read(); left = left > 1 ? left - 1 : shares.Claim())
        {
            cancellationToken.ThrowIfCancellationRequested();
            hosts.Add(HostColumns.Read(rows, columns: StoredOrder));
        }

        return hosts;
    }

    public async Task CheckAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sqlite_master";
        await command.ExecuteScalarAsync(cancellationToken);
    }

    public async Task WriteAsync(HostChanges changes, IReadOnlyList<PendingNotification> notifications, CancellationToken cancellationToken)
    {
        await using var connection = await OpenForWriteAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        var writeToken = Random.Shared.NextInt64();
        if (!await ClaimAsync(connection, writeToken, cancellationToken))
        {
            await transaction.RollbackAsync(cancellationToken);
            await ReopenAsync(cancellationToken);
            throw new StoreReplacedException($"The store file {_path} was replaced while the server ran (by a copy, or another server's file)");
        }

        using (var insert = new RowStatement(connection, """
            INSERT INTO events (id, at, host_id, kind, state, ip, previous_ip, last_seen, expected_interval_ms, summary, changes)
            VALUES ($0, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            """))
        {
            foreach (var e in changes.Events)
            {
                insert.Run(e.Id, ToMilliseconds(e.At), e.HostId, e.Kind.ToString(), e.State.ToString(), e.Ip,
                    e.PreviousIp, ToMilliseconds(e.LastSeen), (long)e.ExpectedInterval.TotalMilliseconds, e.Summary, e.Changes);
            }
        }

        using (var insert = new RowStatement(connection, "INSERT INTO address_changes (at, host_id, kind, previous, current, changes) VALUES ($0, $1, $2, $3, $4, $5)"))
        {
            foreach (var change in changes.AddressChanges)
            {
                insert.Run(ToMilliseconds(change.At), change.HostId, change.Kind.ToString(), change.Previous, change.Current, change.Changes);
            }
        }

        await using (var forget = Prepare(connection, """
            DELETE FROM hosts WHERE id = $0;
            DELETE FROM host_bodies WHERE host_id = $0;
            DELETE FROM events WHERE host_id = $0;
            DELETE FROM address_changes WHERE host_id = $0;
            """, 1))
        {
            foreach (var id in changes.Forgotten)
            {
                await ExecuteAsync(forget, cancellationToken, id);
            }
        }

        var added = HistoryRowsByHost(changes);
        using (var upsert = new RowStatement(connection, UpsertHost))
        using (var body = new RowStatement(connection, UpsertBody))
        using (var noBody = new RowStatement(connection, "DELETE FROM host_bodies WHERE host_id = $0"))
        {
            foreach (var host in changes.Hosts)
            {
                upsert.Bind(HostColumns.Small.Count, added.Remove(host.Id, out var rows) ? rows : 0);
                upsert.Run(host, HostColumns.Small);
                if (changes.SameBodies.Contains(host.Id))
                {
                    continue;
                }

                if (host.LastBody is null)
                {
                    noBody.Run(host.Id);
                    continue;
                }

                body.Bind(0, host.Id);
                body.Run(host, HostColumns.Bulky, first: 1);
            }
        }

        using (var count = new RowStatement(connection, "UPDATE hosts SET unpruned = unpruned + $1 WHERE id = $0"))
        {
            foreach (var (hostId, rows) in added)
            {
                count.Run(hostId, rows); // history of a host not in this batch
            }
        }

        await InsertNotificationsAsync(connection, notifications, cancellationToken);
        await PruneAsync(connection, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        _writeToken = writeToken;
    }

    public async Task<IReadOnlyList<HostEvent>> ReadEventsAsync(long afterId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {StoreRows.EventColumns} FROM events WHERE id > $after ORDER BY id LIMIT $limit";
        Bind(command, ("$after", afterId), ("$limit", limit));
        return await StoreRows.ReadAllAsync(command, StoreRows.Event, cancellationToken);
    }

    public async Task<IReadOnlyList<HostEvent>> ReadHostEventsAsync(string hostId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {StoreRows.EventColumns} FROM events WHERE host_id = $host ORDER BY id DESC LIMIT $limit";
        Bind(command, ("$host", hostId), ("$limit", limit));
        var newestFirst = await StoreRows.ReadAllAsync(command, StoreRows.Event, cancellationToken);
        newestFirst.Reverse();
        return newestFirst;
    }

    public async Task<IReadOnlyList<AddressChange>> ReadAddressHistoryAsync(string hostId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {StoreRows.AddressChangeColumns} FROM address_changes WHERE host_id = $host ORDER BY id DESC LIMIT $limit";
        Bind(command, ("$host", hostId), ("$limit", limit));
        return await StoreRows.ReadAllAsync(command, reader => StoreRows.AddressChange(reader, hostId), cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _anchor.DisposeAsync();
        SqliteConnection.ClearPool(_anchor);
    }

    // Creates or migrates the file at the path, and keeps it open.
    private async Task OpenAnchorAsync(CancellationToken cancellationToken)
    {
        if (_path is not null && Path.GetDirectoryName(Path.GetFullPath(_path)) is { } directory)
        {
            Directory.CreateDirectory(directory);
        }

        await _anchor.OpenAsync(cancellationToken);
        await SqliteSchema.MigrateAsync(_anchor, cancellationToken);
        await using var command = _anchor.CreateCommand();
        command.CommandText = "SELECT write_token FROM store_state";
        _writeToken = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    // The file at the path, created again if it has gone.
    private async Task<SqliteConnection> OpenForWriteAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await OpenAsync(cancellationToken);
        }
        catch (SqliteException e) when (e.SqliteErrorCode == SQLiteCantOpen && _path is not null && !File.Exists(_path))
        {
            await ReopenAsync(cancellationToken);
            throw new StoreReplacedException($"The store file {_path} was deleted while the server ran; it was created again");
        }
    }

    private async Task ReopenAsync(CancellationToken cancellationToken)
    {
        await _anchor.DisposeAsync();
        _anchor = new SqliteConnection(CreatingConnectionString);
        await OpenAnchorAsync(cancellationToken);
    }

    // Leaves this write's token in the file, if the file still has the last one: else it is not the file this server wrote.
    private async Task<bool> ClaimAsync(SqliteConnection connection, long writeToken, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE store_state SET write_token = $next WHERE write_token = $last";
        Bind(command, ("$next", writeToken), ("$last", _writeToken));
        try
        {
            return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
        }
        catch (SqliteException e) when (e.SqliteErrorCode == SQLiteError)
        {
            return false; // no store_state: a file from before schema 7
        }
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA busy_timeout = 5000";
        await pragma.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }

    // How many events and address changes of each host the batch holds.
    private static Dictionary<string, int> HistoryRowsByHost(HostChanges changes)
    {
        var rows = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var hostId in changes.Events.Select(e => e.HostId).Concat(changes.AddressChanges.Select(c => c.HostId)))
        {
            rows[hostId] = rows.GetValueOrDefault(hostId) + 1;
        }

        return rows;
    }

    // Keeps the newest HistoryPerHost events and address changes of each host that has gained HistorySlack rows since
    // it was last pruned. The counts live in the hosts table, where a partial index finds the few that are due
    // without a scan: kept in memory they cost a million hosts 26 MB, and a restart lost them.
    private static async Task PruneAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        await using var due = connection.CreateCommand();
        due.CommandText = $"SELECT id FROM hosts WHERE {SqliteSchema.DueForPrune}";
        var hostIds = await StoreRows.ReadAllAsync(due, reader => reader.GetString(0), cancellationToken);
        await using var prune = Prepare(connection, $"""
            DELETE FROM events WHERE host_id = $0 AND id <=
                (SELECT id FROM events WHERE host_id = $0 ORDER BY id DESC LIMIT 1 OFFSET {IHostStore.HistoryPerHost});
            DELETE FROM address_changes WHERE host_id = $0 AND id <=
                (SELECT id FROM address_changes WHERE host_id = $0 ORDER BY id DESC LIMIT 1 OFFSET {IHostStore.HistoryPerHost});
            UPDATE hosts SET unpruned = 0 WHERE id = $0;
            """, 1);
        foreach (var hostId in hostIds)
        {
            await ExecuteAsync(prune, cancellationToken, hostId);
        }
    }

    private static long ToMilliseconds(DateTimeOffset time) => time.ToUnixTimeMilliseconds();
}
