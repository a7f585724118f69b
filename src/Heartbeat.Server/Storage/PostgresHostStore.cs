using System.Collections.Frozen;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Notify;
using Npgsql;

namespace Heartbeat.Server.Storage;

// The store a fleet of servers shares: PostgreSQL (or a wire-compatible database). It is the authority on every
// host: a server changes hosts only inside a FleetTransaction that holds their rows locked, so two
// servers never decide the same transition twice. Times are UTC Unix milliseconds, as in the SQLite store.
internal sealed partial class PostgresHostStore : IHostStore
{
    private readonly NpgsqlDataSource _db;

    // How long a server may hold a notification it is delivering before another may try it: longer than any attempt.
    private readonly TimeSpan _deliveryLease;

    // This server, as the rows it writes name it: reading the fleet's updates, it skips its own.
    private readonly string _server = Guid.NewGuid().ToString("N");

    private readonly WrittenRows _written = new();

    // The alert targets this server sends to: it leaves alone those only other servers know (during a rolling change, say).
    private readonly Func<IEnumerable<string>> _targets;

    private PostgresHostStore(NpgsqlDataSource db, TimeSpan deliveryLease, Func<IEnumerable<string>> targets)
    {
        _db = db;
        _deliveryLease = deliveryLease;
        _targets = targets;
    }

    // connectionString: The database.
    // longestAttempt: The longest a delivery attempt may take (see LongestAttempt).
    // targets: The keys of this server's alert targets.
    public string Description
    {
        get
        {
            var connection = new NpgsqlConnectionStringBuilder(_db.ConnectionString);
            return $"postgres://{connection.Host}:{connection.Port}/{connection.Database}";
        }
    }

    public static PostgresHostStore Open(string connectionString, TimeSpan longestAttempt, Func<IEnumerable<string>> targets) =>
        new(NpgsqlDataSource.Create(connectionString), longestAttempt + TimeSpan.FromSeconds(5), targets);

    // The cursor of the snapshot LoadAsync read: ReadUpdatesAsync from it misses nothing written since.
    public ulong LoadCursor { get; private set; }

    public async Task<(IReadOnlyList<HostRecord> Hosts, long LastEventId)> LoadAsync(CancellationToken cancellationToken)
    {
        try
        {
            await PostgresSchema.MigrateAsync(_db, cancellationToken);
            await using var connection = await _db.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
            LoadCursor = await CursorAsync(connection, transaction, cancellationToken);
            var hosts = await ReadHostsAsync(connection, transaction, "TRUE", [], cancellationToken);
            await using var command = new NpgsqlCommand("SELECT coalesce(max(id), 0) FROM events", connection, transaction);
            return (hosts, (long)(await command.ExecuteScalarAsync(cancellationToken))!);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            throw new StoreUnavailableException($"cannot open the PostgreSQL store: {e.Message}", e);
        }
    }

    public async Task WriteAsync(HostChanges changes, IReadOnlyList<PendingNotification> notifications, CancellationToken cancellationToken)
    {
        await using var connection = await _db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await PostgresChanges.WriteAsync(connection, transaction, changes, notifications, _server, stored: FrozenDictionary<string, HostRecord>.Empty, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task CheckAsync(CancellationToken cancellationToken)
    {
        await using var command = _db.CreateCommand("SELECT 1");
        await command.ExecuteScalarAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<HostEvent>> ReadEventsAsync(long afterId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await _db.OpenConnectionAsync(cancellationToken);
        return await ReadEventsWhereAsync(connection, null, "id > $1 ORDER BY id LIMIT $2", [afterId, limit], cancellationToken);
    }

    public async Task<IReadOnlyList<HostEvent>> ReadHostEventsAsync(string hostId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await _db.OpenConnectionAsync(cancellationToken);
        var newestFirst = await ReadEventsWhereAsync(connection, null, "host_id = $1 ORDER BY id DESC LIMIT $2", [hostId, limit], cancellationToken);
        newestFirst.Reverse();
        return newestFirst;
    }

    public async Task<IReadOnlyList<AddressChange>> ReadAddressHistoryAsync(string hostId, int limit, CancellationToken cancellationToken)
    {
        await using var command = _db.CreateCommand($"SELECT {StoreRows.AddressChangeColumns} FROM address_changes WHERE host_id = $1 ORDER BY id DESC LIMIT $2");
        command.Parameters.Add(new() { Value = hostId });
        command.Parameters.Add(new() { Value = limit });
        return await StoreRows.ReadAllAsync(command, reader => StoreRows.AddressChange(reader, hostId), cancellationToken);
    }

    public async Task EnqueueNotificationsAsync(IReadOnlyList<PendingNotification> notifications, CancellationToken cancellationToken)
    {
        await using var connection = await _db.OpenConnectionAsync(cancellationToken);
        await PostgresChanges.InsertNotificationsAsync(connection, null, notifications, cancellationToken);
    }

    // Claims due notifications for this server: a lease that no other server's claim overlaps (SKIP LOCKED), so each
    // is sent by one server at a time; if that server dies mid-delivery, the lease runs out and another sends it. Only
    // this server's own targets: an alert for a target it does not have waits for a server that does.
    public async Task<IReadOnlyList<OutboxEntry>> ReadDueNotificationsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        await using var command = _db.CreateCommand("""
            UPDATE outbox SET lease_until = $2
            WHERE id IN (
                SELECT id FROM outbox
                WHERE state = 'pending' AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1) AND target = ANY($4)
                ORDER BY id LIMIT $3
                FOR UPDATE SKIP LOCKED)
            RETURNING id, target, payload, attempts
            """);
        command.Parameters.Add(new() { Value = now.ToUnixTimeMilliseconds() });
        command.Parameters.Add(new() { Value = (now + _deliveryLease).ToUnixTimeMilliseconds() });
        command.Parameters.Add(new() { Value = limit });
        command.Parameters.Add(new() { Value = _targets().ToArray() });
        return [.. (await StoreRows.ReadAllAsync(command, StoreRows.OutboxEntry, cancellationToken)).OrderBy(e => e.Id)];
    }

    public async Task RecordDeliveryAsync(DeliveryOutcome outcome, CancellationToken cancellationToken)
    {
        await using var command = _db.CreateCommand("""
            UPDATE outbox SET
                state = $2, attempts = $3, next_attempt_at = coalesce($4, next_attempt_at), updated_at = $5, lease_until = NULL,
                last_error = coalesce($6, last_error), error_at = CASE WHEN $6::text IS NULL THEN error_at ELSE $5 END
            WHERE id = $1
            """);
        var state = outcome.Delivered ? "delivered" : outcome.NextAttempt is null ? "parked" : "pending";
        command.Parameters.Add(new() { Value = outcome.Id });
        command.Parameters.Add(new() { Value = state });
        command.Parameters.Add(new() { Value = outcome.Attempts });
        command.Parameters.Add(new() { Value = (object?)outcome.NextAttempt?.ToUnixTimeMilliseconds() ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
        command.Parameters.Add(new() { Value = outcome.At.ToUnixTimeMilliseconds() });
        command.Parameters.Add(new() { Value = (object?)outcome.Error ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<NotifierStats>> ReadNotifierStatsAsync(CancellationToken cancellationToken)
    {
        await using var command = _db.CreateCommand("""
            SELECT target,
                   count(*) FILTER (WHERE state = 'pending')::int, count(*) FILTER (WHERE state = 'parked')::int,
                   count(*) FILTER (WHERE state = 'delivered')::int,
                   max(updated_at) FILTER (WHERE state = 'delivered'),
                   (SELECT last_error FROM outbox e WHERE e.target = o.target AND e.error_at IS NOT NULL ORDER BY e.error_at DESC LIMIT 1),
                   max(error_at)
            FROM outbox o
            GROUP BY target
            """);
        return await StoreRows.ReadAllAsync(command, StoreRows.NotifierStats, cancellationToken);
    }

    public async Task PruneDeliveredAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        await using var command = _db.CreateCommand("DELETE FROM outbox WHERE state = 'delivered' AND updated_at < $1");
        command.Parameters.Add(new() { Value = before.ToUnixTimeMilliseconds() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public ValueTask DisposeAsync() => _db.DisposeAsync();

    private static async Task<List<HostRecord>> ReadHostsAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, string where, object[] parameters, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT {HostColumns.Names} FROM hosts WHERE {where}", connection, transaction);
        foreach (var value in parameters)
        {
            command.Parameters.Add(new() { Value = value });
        }

        return await StoreRows.ReadAllAsync(command, reader => HostColumns.Read(new DataReaderRow(reader)), cancellationToken);
    }

    private static async Task<List<HostEvent>> ReadEventsWhereAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, string where, object[] parameters, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT {StoreRows.EventColumns} FROM events WHERE {where}", connection, transaction);
        foreach (var value in parameters)
        {
            command.Parameters.Add(new() { Value = value });
        }

        return await StoreRows.ReadAllAsync(command, StoreRows.Event, cancellationToken);
    }
}

// What the other servers (and this one) wrote since a cursor.
internal sealed record FleetUpdates(IReadOnlyList<HostRecord> Hosts, IReadOnlyList<HostEvent> Events, IReadOnlyList<string> Forgotten, ulong Cursor);
