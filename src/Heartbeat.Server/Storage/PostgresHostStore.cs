using System.Collections.Frozen;
using System.Globalization;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Notify;
using Npgsql;

namespace Heartbeat.Server.Storage;

// The store a fleet of servers shares: PostgreSQL (or a wire-compatible database). It is the authority on every
// host: a server changes hosts only inside a FleetTransaction that holds their rows locked, so two
// servers never decide the same transition twice. Times are UTC Unix milliseconds, as in the SQLite store.
internal sealed class PostgresHostStore : IHostStore
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

    // Locks the rows of the hosts a batch touches (creating those the beats name first) and returns them. Only the rows
    // this server did not write last are read in full.
    public async Task<FleetTransaction> BeginChangesAsync(IReadOnlyCollection<string> beating, IReadOnlyCollection<string> touched, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var transaction = await FleetTransaction.BeginAsync(_db, _server, _written, cancellationToken);
        try
        {
            // Rows for hosts new to this server first, then the locks, each in one order on every server so that none
            // deadlocks. A concurrent insert of the same host waits for the other transaction and then finds its row.
            string[] ids = [.. beating.Union(touched).Order(StringComparer.Ordinal)];
            var hosts = new List<HostRecord>(ids.Length);
            await InsertNewAsync(transaction, [.. beating.Where(id => !_written.Knows(id)).Order(StringComparer.Ordinal)], now, cancellationToken);
            var found = await LockAsync(transaction, ids, hosts, cancellationToken);
            if (found.Count < ids.Length)
            {
                // A host this server wrote that another has forgotten since: its row is made again.
                string[] lost = [.. beating.Except(found).Order(StringComparer.Ordinal)];
                await InsertNewAsync(transaction, lost, now, cancellationToken);
                await LockAsync(transaction, lost, hosts, cancellationToken);
            }

            transaction.Hosts = hosts;
            return transaction;
        }
        catch
        {
            await transaction.DisposeAsync();
            throw;
        }
    }

    // Inserts rows for hosts that may be new (beats = 0 marks them new); those another server made already stay.
    private static async Task InsertNewAsync(FleetTransaction transaction, string[] ids, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (ids.Length == 0)
        {
            return;
        }

        await using var insert = transaction.Command("""
            INSERT INTO hosts (id, peer, first_seen, last_seen, beats, client_status, state, state_since, ip_changes)
            SELECT id, '-', $2, $2, 0, 'Up', 'Up', $2, 0 FROM unnest($1::text[]) AS id ORDER BY id
            ON CONFLICT (id) DO NOTHING
            """);
        insert.Parameters.Add(new() { Value = ids });
        insert.Parameters.Add(new() { Value = now.ToUnixTimeMilliseconds() });
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    // Locks the rows of ids that exist and adds their hosts as the store has them: a row as this server last wrote it
    // from memory, any other read in full. Returns the ids found.
    private async Task<ICollection<string>> LockAsync(FleetTransaction transaction, string[] ids, List<HostRecord> hosts, CancellationToken cancellationToken)
    {
        var found = new List<string>(ids.Length);
        var unknown = new List<string>();
        await using (var locking = transaction.Command("SELECT id, written_by, txid::text FROM hosts WHERE id = ANY($1) ORDER BY id FOR UPDATE"))
        {
            locking.Parameters.Add(new() { Value = ids });
            await using var reader = await locking.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var id = reader.GetString(0);
                found.Add(id);
                var txid = ulong.Parse(reader.GetString(2), CultureInfo.InvariantCulture);
                if (_written.TryTake(id, reader.IsDBNull(1) ? null : reader.GetString(1), _server, txid, out var stored))
                {
                    hosts.Add(stored.Copy());
                    transaction.Stored[id] = stored;
                }
                else
                {
                    unknown.Add(id);
                }
            }
        }

        if (unknown.Count > 0)
        {
            hosts.AddRange(await ReadHostsAsync(transaction.Connection, transaction.Transaction, "id = ANY($1)", [unknown.ToArray()], cancellationToken));
        }

        return found;
    }

    // Locks the hosts due for a look (late, down, a maintenance window's end) that no other server holds, and returns
    // them. Sweeps of all servers take turns on the one fleet row; a sweep that finds the last one more than
    // pauseThreshold ago knows the whole fleet stood still and first moves every deadline by as much.
    public async Task<FleetTransaction> BeginSweepAsync(DateTimeOffset now, TimeSpan pauseThreshold, int limit, CancellationToken cancellationToken)
    {
        var transaction = await FleetTransaction.BeginAsync(_db, _server, _written, cancellationToken);
        try
        {
            var nowMs = now.ToUnixTimeMilliseconds();
            long last;
            await using (var fleet = transaction.Command("SELECT last_sweep_at FROM fleet WHERE id = 1 FOR UPDATE"))
            {
                last = (long)(await fleet.ExecuteScalarAsync(cancellationToken))!;
            }

            var gap = nowMs - last;
            if (last > 0 && gap > pauseThreshold.TotalMilliseconds)
            {
                await using var shift = transaction.Command("""
                    UPDATE hosts SET due_at = due_at + $1, pause_credit_ms = pause_credit_ms + $1, txid = pg_current_xact_id()
                    WHERE due_at IS NOT NULL
                    """);
                shift.Parameters.Add(new() { Value = gap });
                await shift.ExecuteNonQueryAsync(cancellationToken);
                transaction.Paused = TimeSpan.FromMilliseconds(gap);
            }

            await using (var mark = transaction.Command("UPDATE fleet SET last_sweep_at = $1 WHERE id = 1"))
            {
                mark.Parameters.Add(new() { Value = nowMs });
                await mark.ExecuteNonQueryAsync(cancellationToken);
            }

            transaction.Hosts = await ReadHostsAsync(
                transaction.Connection, transaction.Transaction, "due_at <= $1 ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED", [nowMs, limit], cancellationToken);
            return transaction;
        }
        catch
        {
            await transaction.DisposeAsync();
            throw;
        }
    }

    // What every server wrote since cursor (a transaction id horizon): hosts, events and forgotten
    // hosts, and the next cursor. Rows of transactions still open are read again next time, so none is missed.
    public async Task<FleetUpdates> ReadUpdatesAsync(ulong cursor, CancellationToken cancellationToken)
    {
        await using var connection = await _db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        var next = await CursorAsync(connection, transaction, cancellationToken);

        var from = cursor.ToString(CultureInfo.InvariantCulture);
        var hosts = await ReadHostsAsync(connection, transaction, OthersWritten(cursor, out var parameters), parameters, cancellationToken);
        var events = await ReadEventsWhereAsync(connection, transaction, "txid >= $1::text::xid8 ORDER BY id", [from], cancellationToken);
        List<string> forgotten;
        await using (var command = new NpgsqlCommand("SELECT id FROM forgotten_hosts WHERE txid >= $1::text::xid8", connection, transaction))
        {
            command.Parameters.Add(new() { Value = from });
            forgotten = await StoreRows.ReadAllAsync(command, reader => reader.GetString(0), cancellationToken);
        }

        _written.Forget(hosts.Select(h => h.Id).Concat(forgotten));

        await transaction.CommitAsync(cancellationToken);
        return new FleetUpdates(hosts, events, forgotten, next);
    }

    // The condition on rows other servers wrote from cursor on, with its parameters: transaction ids between this
    // server's own, so that the index on txid leads past the rows this server has just written instead of to each.
    private string OthersWritten(ulong cursor, out object[] parameters)
    {
        var own = _written.TransactionsSince(cursor);
        parameters = [_server, cursor.ToString(CultureInfo.InvariantCulture), .. own.Select(txid => txid.ToString(CultureInfo.InvariantCulture))];
        var ranges = new List<string>(own.Count + 1);
        var lower = "txid >= $2::text::xid8";
        for (var i = 0; i < own.Count; i++)
        {
            ranges.Add($"({lower} AND txid < ${i + 3}::text::xid8)");
            lower = $"txid > ${i + 3}::text::xid8";
        }

        ranges.Add($"({lower})");
        return $"written_by IS DISTINCT FROM $1 AND ({string.Join(" OR ", ranges)})";
    }

    // The oldest transaction the snapshot still sees as open: everything written before it is visible now.
    private static async Task<ulong> CursorAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var horizon = new NpgsqlCommand("SELECT pg_snapshot_xmin(pg_current_snapshot())::text", connection, transaction);
        return ulong.Parse((string)(await horizon.ExecuteScalarAsync(cancellationToken))!, CultureInfo.InvariantCulture);
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
