using Npgsql;

namespace Heartbeat.Server.Storage;

// The fleet store's tables, created or upgraded one server at a time: the others wait on an advisory lock, then find
// the work done. The hosts table follows HostColumns, plus who wrote each row and in which transaction.
internal static class PostgresSchema
{
    // 2: the hosts table as HostColumns has it (gaps as text, every integer bigint); 3: configured settings;
    // 4: how many changes an event or address change stands for (see FlushCoalescing); 5: the change feed in a log of
    // its own (host_writes), so that no index covers a column a beat changes and its update stays in its page (HOT).
    public const int Version = 5;

    // The advisory lock that serialises migrations when several servers start at once ("HBSCHEMA").
    private const long MigrationLock = 0x4842_5343_4845_4D41;

    private static readonly string Tables = $"""
        CREATE TABLE hosts (
            {string.Join(",\n    ", HostColumns.All.Select(c => $"{c.Name} {c.PostgresType}{(c.Required ? " NOT NULL" : string.Empty)}"))},
            written_by text,
            txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
            PRIMARY KEY (id)
        );
        CREATE TABLE events (
            id bigserial PRIMARY KEY,
            at bigint NOT NULL,
            host_id text NOT NULL,
            kind text NOT NULL,
            state text NOT NULL,
            ip text NOT NULL,
            previous_ip text,
            last_seen bigint NOT NULL,
            expected_interval_ms bigint NOT NULL,
            summary text NOT NULL,
            changes int NOT NULL DEFAULT 1,
            txid xid8 NOT NULL DEFAULT pg_current_xact_id()
        );
        CREATE INDEX events_by_host ON events (host_id, id);
        CREATE INDEX events_txid ON events (txid);
        CREATE TABLE address_changes (
            id bigserial PRIMARY KEY,
            at bigint NOT NULL,
            host_id text NOT NULL,
            kind text NOT NULL,
            previous text,
            current text,
            changes int NOT NULL DEFAULT 1
        );
        CREATE INDEX address_changes_by_host ON address_changes (host_id, id);
        CREATE TABLE forgotten_hosts (id text NOT NULL, txid xid8 NOT NULL DEFAULT pg_current_xact_id());
        CREATE INDEX forgotten_hosts_txid ON forgotten_hosts (txid);
        CREATE TABLE outbox (
            id bigserial PRIMARY KEY,
            target text NOT NULL,
            payload text NOT NULL,
            state text NOT NULL,
            attempts int NOT NULL,
            next_attempt_at bigint NOT NULL,
            created_at bigint NOT NULL,
            updated_at bigint NOT NULL,
            last_error text,
            error_at bigint,
            lease_until bigint
        );
        CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'pending';
        CREATE TABLE fleet (id int PRIMARY KEY, last_sweep_at bigint NOT NULL);
        INSERT INTO fleet VALUES (1, 0);
        """;

    // Since schema 5: the change feed. Each transaction that writes hosts' rows lists their ids here (none: every row),
    // for the other servers to read by txid; the sweeps prune it, and fleet.writes_from says from which txid on it is
    // whole. The hosts table keeps room in each page for the next version of its rows.
    private const string ChangeFeed = """
        DROP INDEX IF EXISTS hosts_due;
        DROP INDEX IF EXISTS hosts_txid;
        ALTER TABLE hosts SET (fillfactor = 70);
        CREATE TABLE IF NOT EXISTS host_writes (
            txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
            at bigint NOT NULL DEFAULT (extract(epoch FROM clock_timestamp()) * 1000)::bigint,
            written_by text,
            ids text[]
        );
        CREATE INDEX IF NOT EXISTS host_writes_txid ON host_writes (txid);
        ALTER TABLE fleet ADD COLUMN IF NOT EXISTS writes_from bigint NOT NULL DEFAULT 0
        """;

    public static async Task MigrateAsync(NpgsqlDataSource db, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({MigrationLock})", connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
        command.CommandText = """
            CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
            SELECT coalesce(max(version), 0) FROM schema_migrations;
            """;
        var version = (int)(await command.ExecuteScalarAsync(cancellationToken))!;
        if (version > Version)
        {
            throw new InvalidOperationException(
                $"The database was written by a newer heartbeat-server (schema {version}; this one knows {Version}). Upgrade the server.");
        }

        if (version == 0)
        {
            command.CommandText = Tables;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        else if (version == 1)
        {
            command.CommandText = """
                ALTER TABLE hosts
                    ALTER COLUMN gaps TYPE text USING array_to_string(gaps, ','),
                    ALTER COLUMN ip_changes TYPE bigint,
                    ALTER COLUMN declared_misses TYPE bigint
                """;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        if (version is > 0 and < Version)
        {
            // Columns added since: all optional, so rows written before them have nothing to say.
            command.CommandText = "SELECT column_name::text FROM information_schema.columns WHERE table_name = 'hosts' AND table_schema = current_schema()";
            var existing = await StoreRows.ReadAllAsync(command, reader => reader.GetString(0), cancellationToken);
            foreach (var column in HostColumns.All.Where(c => !existing.Contains(c.Name)))
            {
                command.CommandText = $"ALTER TABLE hosts ADD COLUMN {column.Name} {column.PostgresType}";
                await command.ExecuteNonQueryAsync(cancellationToken);
            }

            command.CommandText = """
                ALTER TABLE events ADD COLUMN IF NOT EXISTS changes int NOT NULL DEFAULT 1;
                ALTER TABLE address_changes ADD COLUMN IF NOT EXISTS changes int NOT NULL DEFAULT 1
                """;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        if (version < 5)
        {
            command.CommandText = ChangeFeed;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        if (version < Version)
        {
            command.CommandText = $"INSERT INTO schema_migrations (version) VALUES ({Version})";
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }
}
