using Heartbeat.Server.Hosts;
using Heartbeat.Server.Notify;
using Microsoft.Data.Sqlite;

namespace Heartbeat.Server.Storage;

/// <summary>
/// The embedded store: one SQLite file in WAL mode, so the API reads while the flusher writes. Times are
/// kept as UTC Unix milliseconds; the schema version lives in PRAGMA user_version.
/// </summary>
internal sealed class SqliteHostStore : IHostStore
{
    private const int SchemaVersion = 4;

    private readonly string _connectionString;
    private readonly string? _path;

    // Held open for the store's lifetime: keeps an in-memory database alive and the file's WAL settled.
    private readonly SqliteConnection _anchor;

    private SqliteHostStore(string connectionString, string? path)
    {
        _connectionString = connectionString;
        _path = path;
        _anchor = new SqliteConnection(connectionString);
    }

    public static SqliteHostStore OpenFile(string path) =>
        new(new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString(), path);

    /// <summary>A throwaway database that lives as long as the store (--store memory).</summary>
    public static SqliteHostStore OpenInMemory() => new(new SqliteConnectionStringBuilder
    {
        DataSource = $"heartbeat-{Guid.NewGuid():N}",
        Mode = SqliteOpenMode.Memory,
        Cache = SqliteCacheMode.Shared,
    }.ToString(), path: null);

    public async Task<(IReadOnlyList<HostSnapshot> Hosts, long LastEventId)> LoadAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (_path is not null && Path.GetDirectoryName(Path.GetFullPath(_path)) is { } directory)
            {
                Directory.CreateDirectory(directory);
            }

            await _anchor.OpenAsync(cancellationToken);
            await MigrateAsync(cancellationToken);
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            throw new StoreUnavailableException($"cannot open the store '{_path ?? "memory"}': {e.Message}", e);
        }

        await using var command = _anchor.CreateCommand();
        command.CommandText = $"SELECT {StoreRows.HostColumns} FROM hosts";
        var hosts = await StoreRows.ReadAllAsync(command, StoreRows.Host, cancellationToken);

        command.CommandText = "SELECT coalesce(max(id), 0) FROM events";
        var lastEventId = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        return (hosts, lastEventId);
    }

    public async Task CheckAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sqlite_master";
        await command.ExecuteScalarAsync(cancellationToken);
    }

    /// <summary>Writes one batch of changes in one transaction.</summary>
    public async Task WriteAsync(HostChanges changes, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);

        await using (var insertEvent = connection.CreateCommand())
        {
            insertEvent.CommandText = """
                INSERT INTO events (id, at, host_id, kind, state, ip, previous_ip, last_seen, expected_interval_ms, summary)
                VALUES ($id, $at, $host, $kind, $state, $ip, $previous, $lastSeen, $expected, $summary)
                """;
            foreach (var e in changes.Events)
            {
                Bind(insertEvent, ("$id", e.Id), ("$at", ToMilliseconds(e.At)), ("$host", e.HostId), ("$kind", e.Kind.ToString()),
                    ("$state", e.State.ToString()), ("$ip", e.Ip), ("$previous", e.PreviousIp), ("$lastSeen", ToMilliseconds(e.LastSeen)),
                    ("$expected", (long)e.ExpectedInterval.TotalMilliseconds), ("$summary", e.Summary));
                await insertEvent.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        await using (var insertChange = connection.CreateCommand())
        {
            insertChange.CommandText = "INSERT INTO address_changes (at, host_id, kind, previous, current) VALUES ($at, $host, $kind, $previous, $current)";
            foreach (var change in changes.AddressChanges)
            {
                Bind(insertChange, ("$at", ToMilliseconds(change.At)), ("$host", change.HostId), ("$kind", change.Kind.ToString()),
                    ("$previous", change.Previous), ("$current", change.Current));
                await insertChange.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        await using (var forget = connection.CreateCommand())
        {
            forget.CommandText = """
                DELETE FROM hosts WHERE id = $host;
                DELETE FROM events WHERE host_id = $host;
                DELETE FROM address_changes WHERE host_id = $host;
                """;
            foreach (var id in changes.Forgotten)
            {
                Bind(forget, ("$host", id));
                await forget.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        await using (var upsert = connection.CreateCommand())
        {
            upsert.CommandText = """
                INSERT INTO hosts (id, reported_ip, peer, first_seen, last_seen, beats, message, client_status,
                                   declared_interval_ms, learned_interval_ms, state, state_since, ip_changes, declared_misses,
                                   maintenance_until, boot_id, previous_boot_id, duplicate_seen_at, clock_skew_ms, host_group,
                                   started_at, last_run_ms, body_at, body_kind, body)
                VALUES ($id, $reportedIp, $peer, $firstSeen, $lastSeen, $beats, $message, $clientStatus,
                        $declared, $learned, $state, $stateSince, $ipChanges, $misses,
                        $maintenanceUntil, $bootId, $previousBootId, $duplicateSeenAt, $skew, $group,
                        $startedAt, $lastRun, $bodyAt, $bodyKind, $body)
                ON CONFLICT (id) DO UPDATE SET
                    reported_ip = excluded.reported_ip, peer = excluded.peer, last_seen = excluded.last_seen,
                    beats = excluded.beats, message = excluded.message, client_status = excluded.client_status,
                    declared_interval_ms = excluded.declared_interval_ms, learned_interval_ms = excluded.learned_interval_ms,
                    state = excluded.state, state_since = excluded.state_since, ip_changes = excluded.ip_changes,
                    declared_misses = excluded.declared_misses, maintenance_until = excluded.maintenance_until,
                    boot_id = excluded.boot_id, previous_boot_id = excluded.previous_boot_id, duplicate_seen_at = excluded.duplicate_seen_at,
                    clock_skew_ms = excluded.clock_skew_ms, host_group = excluded.host_group, started_at = excluded.started_at,
                    last_run_ms = excluded.last_run_ms, body_at = excluded.body_at, body_kind = excluded.body_kind, body = excluded.body
                """;
            foreach (var host in changes.Hosts)
            {
                Bind(upsert, ("$id", host.Id), ("$reportedIp", host.ReportedIp), ("$peer", host.Peer),
                    ("$firstSeen", ToMilliseconds(host.FirstSeen)), ("$lastSeen", ToMilliseconds(host.LastSeen)), ("$beats", host.Beats),
                    ("$message", host.Message), ("$clientStatus", host.ClientStatus.ToString()),
                    ("$declared", (long?)host.DeclaredInterval?.TotalMilliseconds), ("$learned", (long?)host.LearnedInterval?.TotalMilliseconds),
                    ("$state", host.State.ToString()), ("$stateSince", ToMilliseconds(host.StateSince)), ("$ipChanges", host.IpChanges),
                    ("$misses", host.DeclaredMisses), ("$maintenanceUntil", OptionalMilliseconds(host.MaintenanceUntil)),
                    ("$bootId", host.BootId), ("$previousBootId", host.PreviousBootId), ("$duplicateSeenAt", OptionalMilliseconds(host.DuplicateSeenAt)),
                    ("$skew", (long?)host.ClockSkew?.TotalMilliseconds), ("$group", host.Group), ("$startedAt", OptionalMilliseconds(host.StartedAt)),
                    ("$lastRun", (long?)host.LastRunTime?.TotalMilliseconds), ("$bodyAt", OptionalMilliseconds(host.LastBody?.At)),
                    ("$bodyKind", host.LastBody?.Kind), ("$body", host.LastBody?.Text));
                await upsert.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        await InsertNotificationsAsync(connection, changes.Notifications, cancellationToken);
        await PruneAsync(connection, changes, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task EnqueueNotificationsAsync(IReadOnlyList<PendingNotification> notifications, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await InsertNotificationsAsync(connection, notifications, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<OutboxEntry>> ReadDueNotificationsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT id, target, payload, attempts FROM outbox
            WHERE state = 'pending' AND next_attempt_at <= $now
            ORDER BY id
            LIMIT $limit
            """;
        Bind(command, ("$now", ToMilliseconds(now)), ("$limit", limit));
        return await StoreRows.ReadAllAsync(command, StoreRows.OutboxEntry, cancellationToken);
    }

    public async Task RecordDeliveryAsync(DeliveryOutcome outcome, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            UPDATE outbox SET
                state = $state, attempts = $attempts, next_attempt_at = coalesce($next, next_attempt_at), updated_at = $at,
                last_error = coalesce($error, last_error), error_at = CASE WHEN $error IS NULL THEN error_at ELSE $at END
            WHERE id = $id
            """;
        var state = outcome.Delivered ? "delivered" : outcome.NextAttempt is null ? "parked" : "pending";
        Bind(command, ("$id", outcome.Id), ("$state", state), ("$attempts", outcome.Attempts),
            ("$next", outcome.NextAttempt is { } next ? ToMilliseconds(next) : null), ("$at", ToMilliseconds(outcome.At)), ("$error", outcome.Error));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<NotifierStats>> ReadNotifierStatsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT target,
                   sum(state = 'pending'), sum(state = 'parked'), sum(state = 'delivered'),
                   max(CASE WHEN state = 'delivered' THEN updated_at END),
                   (SELECT last_error FROM outbox e WHERE e.target = o.target AND e.error_at IS NOT NULL ORDER BY e.error_at DESC LIMIT 1),
                   max(error_at)
            FROM outbox o
            GROUP BY target
            """;
        return await StoreRows.ReadAllAsync(command, StoreRows.NotifierStats, cancellationToken);
    }

    public async Task PruneDeliveredAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM outbox WHERE state = 'delivered' AND updated_at < $before";
        Bind(command, ("$before", ToMilliseconds(before)));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>New notifications are due at once; their creation time is the server time they carry.</summary>
    private static async Task InsertNotificationsAsync(
        SqliteConnection connection, IReadOnlyList<PendingNotification> notifications, CancellationToken cancellationToken)
    {
        await using var insert = connection.CreateCommand();
        insert.CommandText = """
            INSERT INTO outbox (target, payload, state, attempts, next_attempt_at, created_at, updated_at)
            VALUES ($target, $payload, 'pending', 0, $now, $now, $now)
            """;
        foreach (var pending in notifications)
        {
            Bind(insert, ("$target", pending.Target), ("$payload", pending.Notification.ToJson()), ("$now", ToMilliseconds(pending.Notification.ServerTime)));
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    public async Task<IReadOnlyList<HostEvent>> ReadEventsAsync(string? hostId, long afterId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT {StoreRows.EventColumns}
            FROM events
            WHERE id > $after AND ($host IS NULL OR host_id = $host)
            ORDER BY id
            LIMIT $limit
            """;
        Bind(command, ("$after", afterId), ("$host", hostId), ("$limit", limit));
        return await StoreRows.ReadAllAsync(command, StoreRows.Event, cancellationToken);
    }

    public async Task<IReadOnlyList<AddressChange>> ReadAddressHistoryAsync(string hostId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT at, kind, previous, current FROM address_changes WHERE host_id = $host ORDER BY id DESC LIMIT $limit";
        Bind(command, ("$host", hostId), ("$limit", limit));
        return await StoreRows.ReadAllAsync(command, reader => StoreRows.AddressChange(reader, hostId), cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _anchor.DisposeAsync();
        SqliteConnection.ClearPool(_anchor);
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

    private async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var command = _anchor.CreateCommand();
        // NORMAL is durable in WAL mode except against power loss; the heartbeat log is the durable record.
        command.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL";
        await command.ExecuteNonQueryAsync(cancellationToken);
        command.CommandText = "PRAGMA user_version";
        var version = Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        if (version > SchemaVersion)
        {
            throw new InvalidOperationException(
                $"The database was written by a newer heartbeat-server (schema {version}; this one knows {SchemaVersion}). Upgrade the server or point --data elsewhere.");
        }

        if (version < 1)
        {
            command.CommandText = """
                BEGIN;
                CREATE TABLE hosts (
                    id TEXT PRIMARY KEY,
                    reported_ip TEXT,
                    peer TEXT NOT NULL,
                    first_seen INTEGER NOT NULL,
                    last_seen INTEGER NOT NULL,
                    beats INTEGER NOT NULL,
                    message TEXT,
                    client_status TEXT NOT NULL,
                    declared_interval_ms INTEGER,
                    learned_interval_ms INTEGER,
                    state TEXT NOT NULL,
                    state_since INTEGER NOT NULL,
                    ip_changes INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE events (
                    id INTEGER PRIMARY KEY,
                    at INTEGER NOT NULL,
                    host_id TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    state TEXT NOT NULL,
                    ip TEXT NOT NULL,
                    previous_ip TEXT,
                    last_seen INTEGER NOT NULL,
                    expected_interval_ms INTEGER NOT NULL,
                    summary TEXT NOT NULL
                );
                CREATE INDEX events_by_host ON events (host_id, id);
                CREATE TABLE address_changes (
                    id INTEGER PRIMARY KEY,
                    at INTEGER NOT NULL,
                    host_id TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    previous TEXT,
                    current TEXT
                );
                CREATE INDEX address_changes_by_host ON address_changes (host_id, id);
                PRAGMA user_version = 1;
                COMMIT;
                """;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        if (version < 2)
        {
            command.CommandText = """
                BEGIN;
                CREATE TABLE outbox (
                    id INTEGER PRIMARY KEY,
                    target TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    state TEXT NOT NULL,
                    attempts INTEGER NOT NULL,
                    next_attempt_at INTEGER NOT NULL,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    last_error TEXT,
                    error_at INTEGER
                );
                CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
                PRAGMA user_version = 2;
                COMMIT;
                """;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        if (version < 3)
        {
            command.CommandText = """
                BEGIN;
                ALTER TABLE hosts ADD COLUMN declared_misses INTEGER;
                PRAGMA user_version = 3;
                COMMIT;
                """;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        if (version < 4)
        {
            command.CommandText = """
                BEGIN;
                ALTER TABLE hosts ADD COLUMN maintenance_until INTEGER;
                ALTER TABLE hosts ADD COLUMN boot_id TEXT;
                ALTER TABLE hosts ADD COLUMN previous_boot_id TEXT;
                ALTER TABLE hosts ADD COLUMN duplicate_seen_at INTEGER;
                ALTER TABLE hosts ADD COLUMN clock_skew_ms INTEGER;
                ALTER TABLE hosts ADD COLUMN host_group TEXT;
                ALTER TABLE hosts ADD COLUMN started_at INTEGER;
                ALTER TABLE hosts ADD COLUMN last_run_ms INTEGER;
                ALTER TABLE hosts ADD COLUMN body_at INTEGER;
                ALTER TABLE hosts ADD COLUMN body_kind TEXT;
                ALTER TABLE hosts ADD COLUMN body TEXT;
                PRAGMA user_version = 4;
                COMMIT;
                """;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>Keeps the newest <see cref="IHostStore.HistoryPerHost"/> events and address changes of each host that got new ones.</summary>
    private static async Task PruneAsync(SqliteConnection connection, HostChanges changes, CancellationToken cancellationToken)
    {
        await using var prune = connection.CreateCommand();
        prune.CommandText = $"""
            DELETE FROM events WHERE host_id = $host AND id <=
                (SELECT id FROM events WHERE host_id = $host ORDER BY id DESC LIMIT 1 OFFSET {IHostStore.HistoryPerHost});
            DELETE FROM address_changes WHERE host_id = $host AND id <=
                (SELECT id FROM address_changes WHERE host_id = $host ORDER BY id DESC LIMIT 1 OFFSET {IHostStore.HistoryPerHost});
            """;
        foreach (var hostId in changes.Events.Select(e => e.HostId).Concat(changes.AddressChanges.Select(c => c.HostId)).Distinct())
        {
            Bind(prune, ("$host", hostId));
            await prune.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private static void Bind(SqliteCommand command, params ReadOnlySpan<(string Name, object? Value)> parameters)
    {
        command.Parameters.Clear();
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }
    }

    private static long ToMilliseconds(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    private static long? OptionalMilliseconds(DateTimeOffset? time) => time?.ToUnixTimeMilliseconds();

}
