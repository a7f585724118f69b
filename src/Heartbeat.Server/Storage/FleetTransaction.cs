using System.Globalization;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Notify;
using Npgsql;

namespace Heartbeat.Server.Storage;

/// <summary>
/// One change to the fleet's hosts in the shared store: their rows, locked until it commits; what the server decided
/// for them is written back in the same transaction, with the events (their ids from the database, so unique across
/// servers) and the events' notifications.
/// </summary>
internal sealed class FleetTransaction : IAsyncDisposable
{
    private readonly string _server;

    private FleetTransaction(NpgsqlConnection connection, NpgsqlTransaction transaction, string server)
    {
        Connection = connection;
        Transaction = transaction;
        _server = server;
    }

    public NpgsqlConnection Connection { get; }

    public NpgsqlTransaction Transaction { get; }

    /// <summary>The locked hosts as the store has them.</summary>
    public IReadOnlyList<HostSnapshot> Hosts { get; set; } = [];

    /// <summary>How long the whole fleet had stood still, when this sweep found it had (every deadline moved by as much).</summary>
    public TimeSpan? Paused { get; set; }

    public static async Task<FleetTransaction> BeginAsync(NpgsqlDataSource db, string server, CancellationToken cancellationToken)
    {
        var connection = await db.OpenConnectionAsync(cancellationToken);
        try
        {
            return new FleetTransaction(connection, await connection.BeginTransactionAsync(cancellationToken), server);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public NpgsqlCommand Command(string sql) => new(sql, Connection, Transaction);

    /// <summary>Writes the changes and the notifications <paramref name="route"/> makes of the events, then commits; returns the stored events.</summary>
    public async Task<IReadOnlyList<HostEvent>> CommitAsync(
        HostChanges changes, Func<IReadOnlyList<HostEvent>, IReadOnlyList<PendingNotification>> route, CancellationToken cancellationToken)
    {
        var events = await InsertEventsAsync(changes.Events, cancellationToken);
        await UpdateHostsAsync(changes.Hosts, cancellationToken);
        await InsertAddressChangesAsync(changes.AddressChanges, cancellationToken);
        await ForgetAsync(changes.Forgotten, cancellationToken);
        await PostgresHostStore.InsertNotificationsAsync(Connection, Transaction, route(events), cancellationToken);
        await PruneAsync([.. events.Select(e => e.HostId).Concat(changes.AddressChanges.Select(c => c.HostId)).Distinct()], cancellationToken);
        await Transaction.CommitAsync(cancellationToken);
        return events;
    }

    public async ValueTask DisposeAsync()
    {
        await Transaction.DisposeAsync();
        await Connection.DisposeAsync();
    }

    /// <summary>The events with ids drawn from the database's sequence, in the order they happened.</summary>
    private async Task<IReadOnlyList<HostEvent>> InsertEventsAsync(IReadOnlyList<HostEvent> events, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return [];
        }

        var ids = new List<long>(events.Count);
        await using (var next = Command("SELECT nextval(pg_get_serial_sequence('events', 'id')) FROM generate_series(1, $1) ORDER BY 1"))
        {
            next.Parameters.Add(new() { Value = events.Count });
            await using var reader = await next.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                ids.Add(reader.GetInt64(0));
            }
        }

        HostEvent[] stored = [.. events.Select((e, i) => e with { Id = ids[i] })];
        await using var insert = Command("""
            INSERT INTO events (id, at, host_id, kind, state, ip, previous_ip, last_seen, expected_interval_ms, summary)
            SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::text[])
            """);
        Add(insert, stored.Select(e => e.Id));
        Add(insert, stored.Select(e => e.At.ToUnixTimeMilliseconds()));
        Add(insert, stored.Select(e => e.HostId));
        Add(insert, stored.Select(e => e.Kind.ToString()));
        Add(insert, stored.Select(e => e.State.ToString()));
        Add(insert, stored.Select(e => e.Ip));
        Add(insert, stored.Select(e => e.PreviousIp));
        Add(insert, stored.Select(e => e.LastSeen.ToUnixTimeMilliseconds()));
        Add(insert, stored.Select(e => (long)e.ExpectedInterval.TotalMilliseconds));
        Add(insert, stored.Select(e => e.Summary));
        await insert.ExecuteNonQueryAsync(cancellationToken);
        return stored;
    }

    private async Task UpdateHostsAsync(IReadOnlyList<HostSnapshot> hosts, CancellationToken cancellationToken)
    {
        if (hosts.Count == 0)
        {
            return;
        }

        // Every row exists and is locked by this transaction (see PostgresHostStore.BeginChangesAsync), so an update says it all.
        await using var update = Command("""
            UPDATE hosts AS h SET
                reported_ip = u.reported_ip, peer = u.peer, first_seen = u.first_seen, last_seen = u.last_seen, beats = u.beats,
                message = u.message, client_status = u.client_status, declared_interval_ms = u.declared_interval_ms,
                learned_interval_ms = u.learned_interval_ms, state = u.state, state_since = u.state_since, ip_changes = u.ip_changes,
                declared_misses = u.declared_misses, maintenance_until = u.maintenance_until, boot_id = u.boot_id,
                previous_boot_id = u.previous_boot_id, duplicate_seen_at = u.duplicate_seen_at, clock_skew_ms = u.clock_skew_ms,
                host_group = u.host_group, started_at = u.started_at, last_run_ms = u.last_run_ms, body_at = u.body_at,
                body_kind = u.body_kind, body = u.body, pause_credit_ms = u.pause_credit_ms,
                gaps = string_to_array(u.gaps, ',')::real[], due_at = u.due_at, written_by = $29, txid = pg_current_xact_id()
            FROM unnest(
                $1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[], $8::text[], $9::bigint[],
                $10::bigint[], $11::text[], $12::bigint[], $13::int[], $14::int[], $15::bigint[], $16::text[], $17::text[],
                $18::bigint[], $19::bigint[], $20::text[], $21::bigint[], $22::bigint[], $23::bigint[], $24::text[], $25::text[],
                $26::bigint[], $27::text[], $28::bigint[])
                AS u(id, reported_ip, peer, first_seen, last_seen, beats, message, client_status, declared_interval_ms,
                     learned_interval_ms, state, state_since, ip_changes, declared_misses, maintenance_until, boot_id, previous_boot_id,
                     duplicate_seen_at, clock_skew_ms, host_group, started_at, last_run_ms, body_at, body_kind, body,
                     pause_credit_ms, gaps, due_at)
            WHERE h.id = u.id
            """);
        Add(update, hosts.Select(h => h.Id));
        Add(update, hosts.Select(h => h.ReportedIp));
        Add(update, hosts.Select(h => h.Peer));
        Add(update, hosts.Select(h => h.FirstSeen.ToUnixTimeMilliseconds()));
        Add(update, hosts.Select(h => h.LastSeen.ToUnixTimeMilliseconds()));
        Add(update, hosts.Select(h => h.Beats));
        Add(update, hosts.Select(h => h.Message));
        Add(update, hosts.Select(h => h.ClientStatus.ToString()));
        Add(update, hosts.Select(h => Milliseconds(h.DeclaredInterval)));
        Add(update, hosts.Select(h => Milliseconds(h.LearnedInterval)));
        Add(update, hosts.Select(h => h.State.ToString()));
        Add(update, hosts.Select(h => h.StateSince.ToUnixTimeMilliseconds()));
        Add(update, hosts.Select(h => h.IpChanges));
        Add(update, hosts.Select(h => h.DeclaredMisses));
        Add(update, hosts.Select(h => h.MaintenanceUntil?.ToUnixTimeMilliseconds()));
        Add(update, hosts.Select(h => h.BootId));
        Add(update, hosts.Select(h => h.PreviousBootId));
        Add(update, hosts.Select(h => h.DuplicateSeenAt?.ToUnixTimeMilliseconds()));
        Add(update, hosts.Select(h => Milliseconds(h.ClockSkew)));
        Add(update, hosts.Select(h => h.Group));
        Add(update, hosts.Select(h => h.StartedAt?.ToUnixTimeMilliseconds()));
        Add(update, hosts.Select(h => Milliseconds(h.LastRunTime)));
        Add(update, hosts.Select(h => h.LastBody?.At.ToUnixTimeMilliseconds()));
        Add(update, hosts.Select(h => h.LastBody?.Kind));
        Add(update, hosts.Select(h => h.LastBody?.Text));
        Add(update, hosts.Select(h => (long)h.PauseCredit.TotalMilliseconds));
        Add(update, hosts.Select(h => string.Join(',', h.RecentGaps.Select(g => g.ToString("R", CultureInfo.InvariantCulture)))));
        Add(update, hosts.Select(h => h.DueAt?.ToUnixTimeMilliseconds()));
        update.Parameters.Add(new NpgsqlParameter { Value = _server });
        await update.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task InsertAddressChangesAsync(IReadOnlyList<AddressChange> changes, CancellationToken cancellationToken)
    {
        if (changes.Count == 0)
        {
            return;
        }

        await using var insert = Command("""
            INSERT INTO address_changes (at, host_id, kind, previous, current)
            SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])
            """);
        Add(insert, changes.Select(c => c.At.ToUnixTimeMilliseconds()));
        Add(insert, changes.Select(c => c.HostId));
        Add(insert, changes.Select(c => c.Kind.ToString()));
        Add(insert, changes.Select(c => c.Previous));
        Add(insert, changes.Select(c => c.Current));
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task ForgetAsync(IReadOnlyList<string> forgotten, CancellationToken cancellationToken)
    {
        if (forgotten.Count == 0)
        {
            return;
        }

        await ExecuteEachAsync(
            [
                "DELETE FROM hosts WHERE id = ANY($1)",
                "DELETE FROM events WHERE host_id = ANY($1)",
                "DELETE FROM address_changes WHERE host_id = ANY($1)",
                "INSERT INTO forgotten_hosts (id) SELECT unnest($1::text[])",
            ],
            forgotten.ToArray(),
            cancellationToken);
    }

    /// <summary>Keeps the newest <see cref="IHostStore.HistoryPerHost"/> events and address changes of each host that got new ones.</summary>
    private async Task PruneAsync(string[] hostIds, CancellationToken cancellationToken)
    {
        if (hostIds.Length == 0)
        {
            return;
        }

        await ExecuteEachAsync(
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
    }

    /// <summary>Runs each statement with the host ids as $1 (a command with positional parameters holds one statement).</summary>
    private async Task ExecuteEachAsync(string[] statements, string[] hostIds, CancellationToken cancellationToken)
    {
        foreach (var sql in statements)
        {
            await using var command = Command(sql);
            Add(command, hostIds);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private static long? Milliseconds(TimeSpan? duration) => (long?)duration?.TotalMilliseconds;

    private static void Add<T>(NpgsqlCommand command, IEnumerable<T> values) => command.Parameters.Add(new NpgsqlParameter { Value = values.ToArray() });
}
