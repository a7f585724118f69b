using System.Globalization;
using Heartbeat.Server.Hosts;
using Npgsql;

namespace Heartbeat.Server.Storage;

// The fleet's side of the shared store: the rows a round changes, locked; the sweeps; the change feed each server
// reads the others' writes from.
internal sealed partial class PostgresHostStore
{
    // How long the change feed keeps a write: far longer than a round, so only a server cut off from the store for
    // longer has to read every row.
    private static readonly TimeSpan FeedKept = TimeSpan.FromSeconds(30);

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
        // Each row's txid (unique across the fleet) says whether this server wrote it last.
        await using (var locking = transaction.Command("SELECT id, txid::text::bigint FROM hosts WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE"))
        {
            locking.Parameters.Add(new() { Value = ids });
            await using var reader = await locking.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var id = reader.GetString(0);
                found.Add(id);
                if (_written.TryTake(id, (ulong)reader.GetInt64(1), out var stored))
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
    // them. The candidates are those this server's copy of the fleet has due; each is taken only if its row says so
    // too (no index on due_at: a beat moves it, and an indexed column would take every update out of its page). Sweeps
    // of all servers take turns on the one fleet row; a sweep that finds the last one more than pauseThreshold ago
    // knows the whole fleet stood still and first moves every deadline by as much.
    public async Task<FleetTransaction> BeginSweepAsync(DateTimeOffset now, TimeSpan pauseThreshold, IReadOnlyCollection<string> candidates, CancellationToken cancellationToken)
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
                // Every row changes: the change feed says so with no list (and no writer, so every server reads them).
                await using var shift = transaction.Command("""
                    WITH listed AS (INSERT INTO host_writes (written_by, ids) VALUES (NULL, NULL))
                    UPDATE hosts SET due_at = due_at + $1, pause_credit_ms = pause_credit_ms + $1, txid = pg_current_xact_id()
                    WHERE due_at IS NOT NULL
                    """);
                shift.Parameters.Add(new() { Value = gap });
                await shift.ExecuteNonQueryAsync(cancellationToken);
                transaction.Paused = TimeSpan.FromMilliseconds(gap);
            }

            // The change feed keeps FeedKept of writes: a server that has not read it for longer reads every row.
            await using (var mark = transaction.Command("""
                WITH pruned AS (
                    DELETE FROM host_writes WHERE at < (extract(epoch FROM clock_timestamp()) * 1000)::bigint - $2 RETURNING txid)
                UPDATE fleet SET last_sweep_at = $1, writes_from = greatest(writes_from, (SELECT max(txid::text::bigint) + 1 FROM pruned))
                WHERE id = 1
                """))
            {
                mark.Parameters.Add(new() { Value = nowMs });
                mark.Parameters.Add(new() { Value = (long)FeedKept.TotalMilliseconds });
                await mark.ExecuteNonQueryAsync(cancellationToken);
            }

            transaction.Hosts = candidates.Count == 0 ? [] : await ReadHostsAsync(
                transaction.Connection, transaction.Transaction, "id = ANY($2) AND due_at <= $1 ORDER BY due_at FOR NO KEY UPDATE SKIP LOCKED", [nowMs, candidates.ToArray()], cancellationToken);
            return transaction;
        }
        catch
        {
            await transaction.DisposeAsync();
            throw;
        }
    }

    // What every server wrote since cursor (a transaction id horizon): hosts, events and forgotten hosts, and the next
    // cursor. Rows of transactions still open are read again next time, so none is missed. The hosts are those the
    // others wrote as the change feed names them, unless it no longer reaches back to cursor or names none for a write
    // of every row: then every row.
    public async Task<FleetUpdates> ReadUpdatesAsync(ulong cursor, CancellationToken cancellationToken)
    {
        await using var connection = await _db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        var next = await CursorAsync(connection, transaction, cancellationToken);

        var from = cursor.ToString(CultureInfo.InvariantCulture);
        bool listed;
        await using (var whole = new NpgsqlCommand("""
            SELECT $1::text::bigint >= writes_from AND NOT EXISTS (SELECT FROM host_writes WHERE txid >= $1::text::xid8 AND ids IS NULL)
            FROM fleet WHERE id = 1
            """, connection, transaction))
        {
            whole.Parameters.Add(new() { Value = from });
            listed = (bool)(await whole.ExecuteScalarAsync(cancellationToken))!;
        }

        var hosts = listed
            ? await ReadHostsAsync(connection, transaction, """
                id IN (SELECT unnest(ids) FROM host_writes WHERE txid >= $2::text::xid8 AND written_by IS DISTINCT FROM $1)
                AND written_by IS DISTINCT FROM $1
                """, [_server, from], cancellationToken)
            : await ReadHostsAsync(connection, transaction, "TRUE", [], cancellationToken); // this server's own too: a shift moved them
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

    // The oldest transaction the snapshot still sees as open: everything written before it is visible now.
    private static async Task<ulong> CursorAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var horizon = new NpgsqlCommand("SELECT pg_snapshot_xmin(pg_current_snapshot())::text", connection, transaction);
        return ulong.Parse((string)(await horizon.ExecuteScalarAsync(cancellationToken))!, CultureInfo.InvariantCulture);
    }
}
