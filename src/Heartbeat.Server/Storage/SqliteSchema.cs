using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Heartbeat.Server.Storage;

// The SQLite store's tables, created or brought up to date at start-up in one transaction. The hosts table follows
// HostColumns, its bulky columns (a ping body) in host_bodies: updating a row rewrites the whole row, and a body is
// kilobytes where the rest is a few bytes. An older file gains the columns it lacks. The version lives in PRAGMA user_version.
internal static class SqliteSchema
{
    // 5: hosts keep their pause credit, learned gaps and next deadline; 6: settings an admin configured;
    // 7: ping bodies in a table of their own, and a token of the last write that tells the server its file is still
    // the one it wrote to (see SqliteHostStore); 8: how many changes an event or address change stands for (see
    // FlushCoalescing); 9: how many history rows each host gained since its last prune (see SqliteHostStore).
    public const int Version = 9;

    // The hosts whose history is due for a prune: what the partial index hosts_to_prune holds, and what a query must
    // say, word for word, for SQLite to use it.
    public static readonly string DueForPrune = $"unpruned >= {IHostStore.HistorySlack}";

    private static readonly string Tables = $"""
        CREATE TABLE IF NOT EXISTS hosts (
            {string.Join(",\n    ", HostColumns.Small.Select(c => $"{c.Name} {c.SqliteType}"))},
            {Unpruned},
            PRIMARY KEY (id)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS host_bodies (
            host_id TEXT PRIMARY KEY,
            {string.Join(",\n    ", HostColumns.Bulky.Select(c => $"{c.Name} {c.SqliteType}"))}
        );
        CREATE TABLE IF NOT EXISTS store_state (write_token INTEGER NOT NULL);
        INSERT INTO store_state (write_token) SELECT random() WHERE NOT EXISTS (SELECT 1 FROM store_state);
        CREATE TABLE IF NOT EXISTS events (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            host_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            state TEXT NOT NULL,
            ip TEXT NOT NULL,
            previous_ip TEXT,
            last_seen INTEGER NOT NULL,
            expected_interval_ms INTEGER NOT NULL,
            summary TEXT NOT NULL,
            changes INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX IF NOT EXISTS events_by_host ON events (host_id, id);
        CREATE TABLE IF NOT EXISTS address_changes (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            host_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            previous TEXT,
            current TEXT,
            changes INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX IF NOT EXISTS address_changes_by_host ON address_changes (host_id, id);
        CREATE TABLE IF NOT EXISTS outbox (
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
        CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_attempt_at);
        """;

    private const string Unpruned = "unpruned INTEGER NOT NULL DEFAULT 0";

    public static async Task MigrateAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        // NORMAL is durable in WAL mode except against power loss; the heartbeat log is the durable record.
        command.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL";
        await command.ExecuteNonQueryAsync(cancellationToken);
        command.CommandText = "PRAGMA user_version";
        var version = Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        if (version > Version)
        {
            throw new InvalidOperationException(
                $"The database was written by a newer heartbeat-server (schema {version}; this one knows {Version}). Upgrade the server or point --data elsewhere.");
        }

        if (version == Version)
        {
            return;
        }

        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        command.Transaction = transaction;
        command.CommandText = Tables;
        await command.ExecuteNonQueryAsync(cancellationToken);

        command.CommandText = "SELECT name FROM pragma_table_info('hosts')";
        var existing = await StoreRows.ReadAllAsync(command, reader => reader.GetString(0), cancellationToken);
        foreach (var column in HostColumns.Small.Where(c => !existing.Contains(c.Name)))
        {
            // Columns added after the first schema are all optional: rows written before them have nothing to say.
            command.CommandText = $"ALTER TABLE hosts ADD COLUMN {column.Name} {(column.Kind == ColumnKind.Text ? "TEXT" : "INTEGER")}";
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        if (!existing.Contains("unpruned"))
        {
            command.CommandText = $"ALTER TABLE hosts ADD COLUMN {Unpruned}";
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        command.CommandText = $"CREATE INDEX IF NOT EXISTS hosts_to_prune ON hosts (id) WHERE {DueForPrune}";
        await command.ExecuteNonQueryAsync(cancellationToken);

        foreach (var table in new[] { "events", "address_changes" })
        {
            command.CommandText = $"SELECT count(*) FROM pragma_table_info('{table}') WHERE name = 'changes'";
            if ((long)(await command.ExecuteScalarAsync(cancellationToken))! == 0)
            {
                command.CommandText = $"ALTER TABLE {table} ADD COLUMN changes INTEGER NOT NULL DEFAULT 1";
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        var bulky = HostColumns.Bulky.Where(c => existing.Contains(c.Name)).Select(c => c.Name).ToList();
        if (bulky.Count > 0)
        {
            // Before 7, bodies were columns of the hosts row.
            command.CommandText = $"""
                INSERT INTO host_bodies (host_id, {string.Join(", ", bulky)}) SELECT id, {string.Join(", ", bulky)} FROM hosts WHERE body_at IS NOT NULL;
                {string.Concat(bulky.Select(c => $"ALTER TABLE hosts DROP COLUMN {c};"))}
                """;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        command.CommandText = $"PRAGMA user_version = {Version}";
        await command.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }
}
