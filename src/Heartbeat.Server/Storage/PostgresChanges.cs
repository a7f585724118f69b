using Heartbeat.Server.Hosts;
using Heartbeat.Server.Notify;
using Npgsql;

namespace Heartbeat.Server.Storage;

// Writes a batch of changes to PostgreSQL inside a transaction the caller holds: the same statements whether the
// store writes a batch of its own or a fleet round writes back what it decided for the rows it locked. Each kind of row
// goes in one statement over arrays (unnest), whatever the batch's size.
internal static class PostgresChanges
{
    // Inserts a host, or updates every column of one already stored, and says which server wrote it. A body the store
    // has already comes as NULL and keeps the stored value (TOAST then keeps it where it is, unwritten).
    private static readonly string UpsertHosts = $"""
        INSERT INTO hosts ({HostColumns.Names}, written_by, txid)
        SELECT *, $1, pg_current_xact_id() FROM unnest({string.Join(", ", HostColumns.All.Select((c, i) => $"${i + 2}::{c.PostgresType}[]"))})
        ON CONFLICT (id) DO UPDATE SET {string.Join(", ", HostColumns.All.Skip(1).Append(null).Select(c => c switch
        {
            null => "written_by = excluded.written_by, txid = excluded.txid",
            { Bulky: true } => $"{c.Name} = CASE WHEN excluded.body_at IS NULL THEN NULL ELSE coalesce(excluded.{c.Name}, hosts.{c.Name}) END",
            _ => $"{c.Name} = excluded.{c.Name}",
        }))}
        """;

    public static async Task WriteAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        HostChanges changes,
        IReadOnlyList<PendingNotification> notifications,
        string server,
        IReadOnlyDictionary<string, HostRecord> stored,
        CancellationToken cancellationToken)
    {
        // Forgotten hosts go first: whatever else the batch holds for one came after its forget (it beat again, say).
        await ForgetAsync(connection, transaction, changes.Forgotten, cancellationToken);
        await InsertEventsAsync(connection, transaction, changes.Events, cancellationToken);
        List<(HostRecord Now, HostRecord Then)> known = [];
        List<HostRecord> others = [];
        foreach (var host in changes.Hosts)
        {
            if (stored.TryGetValue(host.Id, out var then))
            {
                known.Add((host, then));
            }
            else
            {
                others.Add(host);
            }
        }

        await UpdateChangedColumnsAsync(connection, transaction, known, server, cancellationToken);
        await UpsertHostsAsync(connection, transaction, others, changes.SameBodies, server, cancellationToken);
        await ListWrittenAsync(connection, transaction, changes.Hosts, server, cancellationToken);
        await InsertAddressChangesAsync(connection, transaction, changes.AddressChanges, cancellationToken);
        await InsertNotificationsAsync(connection, transaction, notifications, cancellationToken);
        await PruneAsync(connection, transaction, [.. changes.Events.Select(e => e.HostId).Concat(changes.AddressChanges.Select(c => c.HostId)).Distinct()], cancellationToken);
    }

    // Ids for count new events from the database's sequence, in order: unique across servers.
    public static async Task<List<long>> ReserveEventIdsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, int count, CancellationToken cancellationToken)
    {
        await using var next = new NpgsqlCommand("SELECT nextval(pg_get_serial_sequence('events', 'id')) FROM generate_series(1, $1) ORDER BY 1", connection, transaction);
        next.Parameters.Add(new() { Value = count });
        return await StoreRows.ReadAllAsync(next, reader => reader.GetInt64(0), cancellationToken);
    }

    public static async Task InsertNotificationsAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, IReadOnlyList<PendingNotification> notifications, CancellationToken cancellationToken)
    {
        if (notifications.Count == 0)
        {
            return;
        }

        await using var insert = new NpgsqlCommand("""
            INSERT INTO outbox (target, payload, state, attempts, next_attempt_at, created_at, updated_at)
            SELECT target, payload, 'pending', 0, at, at, at FROM unnest($1::text[], $2::text[], $3::bigint[]) AS n(target, payload, at)
            """, connection, transaction);
        Add(insert, notifications.Select(n => n.Target));
        Add(insert, notifications.Select(n => n.Notification.ToJson()));
        Add(insert, notifications.Select(n => n.Notification.ServerTime.ToUnixTimeMilliseconds()));
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task InsertEventsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<HostEvent> events, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return;
        }

        await using var insert = new NpgsqlCommand("""
            INSERT INTO events (id, at, host_id, kind, state, ip, previous_ip, last_seen, expected_interval_ms, summary, changes)
            SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::text[], $11::int[])
            """, connection, transaction);
        Add(insert, events.Select(e => e.Id));
        Add(insert, events.Select(e => e.At.ToUnixTimeMilliseconds()));
        Add(insert, events.Select(e => e.HostId));
        Add(insert, events.Select(e => e.Kind.ToString()));
        Add(insert, events.Select(e => e.State.ToString()));
        Add(insert, events.Select(e => e.Ip));
        Add(insert, events.Select(e => e.PreviousIp));
        Add(insert, events.Select(e => e.LastSeen.ToUnixTimeMilliseconds()));
        Add(insert, events.Select(e => (long)e.ExpectedInterval.TotalMilliseconds));
        Add(insert, events.Select(e => e.Summary));
        Add(insert, events.Select(e => e.Changes));
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    // Hosts whose rows hold them as they were then: only the columns that changed for any of them are sent and set (a
    // beat changes a few of the thirty-odd), in a plain UPDATE.
    private static async Task UpdateChangedColumnsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, List<(HostRecord Now, HostRecord Then)> pairs, string server, CancellationToken cancellationToken)
    {
        if (pairs.Count == 0)
        {
            return;
        }

        var hosts = pairs.ConvertAll(p => p.Now);
        HostColumn[] changed = [.. HostColumns.All.Skip(1).Where(c => pairs.Exists(p => !c.Same(p.Now, p.Then)))];
        await using var update = new NpgsqlCommand($"""
            UPDATE hosts SET {string.Join(", ", changed.Select(c => $"{c.Name} = u.{c.Name}").Append("written_by = $1, txid = pg_current_xact_id()"))}
            FROM unnest($2::text[]{string.Concat(changed.Select((c, i) => $", ${i + 3}::{c.PostgresType}[]"))}) AS u(id{string.Concat(changed.Select(c => ", " + c.Name))})
            WHERE hosts.id = u.id
            """, connection, transaction);
        update.Parameters.Add(new NpgsqlParameter { Value = server });
        foreach (var column in changed.Prepend(HostColumns.All[0]))
        {
            update.Parameters.Add(Values(column, hosts, column.Get));
        }

        await update.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task UpsertHostsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, List<HostRecord> hosts, IReadOnlySet<string> sameBodies, string server, CancellationToken cancellationToken)
    {
        if (hosts.Count == 0)
        {
            return;
        }

        await using var upsert = new NpgsqlCommand(UpsertHosts, connection, transaction);
        upsert.Parameters.Add(new NpgsqlParameter { Value = server });
        foreach (var column in HostColumns.All)
        {
            upsert.Parameters.Add(Values(column, hosts, column.Bulky ? h => sameBodies.Contains(h.Id) ? null : column.Get(h) : column.Get));
        }

        await upsert.ExecuteNonQueryAsync(cancellationToken);
    }

    // Names the hosts written in the change feed, which the other servers read (see PostgresSchema.ChangeFeed).
    private static async Task ListWrittenAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<HostRecord> hosts, string server, CancellationToken cancellationToken)
    {
        if (hosts.Count == 0)
        {
            return;
        }

        await using var insert = new NpgsqlCommand("INSERT INTO host_writes (written_by, ids) VALUES ($1, $2)", connection, transaction);
        insert.Parameters.Add(new NpgsqlParameter { Value = server });
        Add(insert, hosts.Select(h => h.Id));
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    // One column's values of hosts, as the array parameter unnest takes.
    private static NpgsqlParameter Values(HostColumn column, List<HostRecord> hosts, Func<HostRecord, object?> get) => new()
    {
        Value = column.Kind == ColumnKind.Text
            ? hosts.Select(h => (string?)get(h)).ToArray()
            : hosts.Select(h => (long?)get(h)).ToArray(),
    };

    private static async Task InsertAddressChangesAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<AddressChange> changes, CancellationToken cancellationToken)
    {
        if (changes.Count == 0)
        {
            return;
        }

        await using var insert = new NpgsqlCommand("""
            INSERT INTO address_changes (at, host_id, kind, previous, current, changes)
            SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[])
            """, connection, transaction);
        Add(insert, changes.Select(c => c.At.ToUnixTimeMilliseconds()));
        Add(insert, changes.Select(c => c.HostId));
        Add(insert, changes.Select(c => c.Kind.ToString()));
        Add(insert, changes.Select(c => c.Previous));
        Add(insert, changes.Select(c => c.Current));
        Add(insert, changes.Select(c => c.Changes));
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    private static Task ForgetAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<string> forgotten, CancellationToken cancellationToken) =>
        forgotten.Count == 0 ? Task.CompletedTask : ExecuteEachAsync(
            connection,
            transaction,
            [
                "DELETE FROM hosts WHERE id = ANY($1)",
                "DELETE FROM events WHERE host_id = ANY($1)",
                "DELETE FROM address_changes WHERE host_id = ANY($1)",
                "INSERT INTO forgotten_hosts (id) SELECT unnest($1::text[])",
            ],
            [.. forgotten],
            cancellationToken);

    // Keeps the newest HistoryPerHost events and address changes of each host that got new ones.
    private static Task PruneAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string[] hostIds, CancellationToken cancellationToken) =>
        hostIds.Length == 0 ? Task.CompletedTask : ExecuteEachAsync(
            connection,
            transaction,
            [
                $"""
                DELETE FROM events e USING unnest($1::text[]) AS h(id)
                WHERE e.host_id = h.id AND e.id <= (SELECT id FROM events WHERE host_id = h.id ORDER BY id DESC OFFSET {IHostStore.HistoryPerHost} LIMIT 1)
                """,
                $"""
                DELETE FROM address_changes a USING unnest($1::text[]) AS h(id)
                WHERE a.host_id = h.id AND a.id <= (SELECT id FROM address_changes WHERE host_id = h.id ORDER BY id DESC OFFSET {IHostStore.HistoryPerHost} LIMIT 1)
                """,
            ],
            hostIds,
            cancellationToken);

    // Runs each statement with the host ids as $1 (a command with positional parameters holds one statement).
    private static async Task ExecuteEachAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string[] statements, string[] hostIds, CancellationToken cancellationToken)
    {
        foreach (var sql in statements)
        {
            await using var command = new NpgsqlCommand(sql, connection, transaction);
            command.Parameters.Add(new NpgsqlParameter { Value = hostIds });
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private static void Add<T>(NpgsqlCommand command, IEnumerable<T> values) => command.Parameters.Add(new NpgsqlParameter { Value = values.ToArray() });
}
