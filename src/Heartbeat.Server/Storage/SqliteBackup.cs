using Microsoft.Data.Sqlite;

namespace Heartbeat.Server.Storage;

// What a backup holds: its hosts and schema, and its size.
internal sealed record BackupSummary(long Hosts, int Schema, long Bytes);

// A copy of the SQLite store by SQLite's online backup: consistent while the server writes (the store is in WAL mode,
// so the copy reads a snapshot and the server's writes go on). The copy appears under its name only once whole and
// checked, and never over an existing file.
internal static class SqliteBackup
{
    public static async Task<BackupSummary> CopyAsync(string source, string destination, CancellationToken cancellationToken)
    {
        if (!File.Exists(source))
        {
            throw new FileNotFoundException($"there is no store at '{source}' (give its path with --data)");
        }

        if (File.Exists(destination) || Directory.Exists(destination))
        {
            throw new IOException($"'{destination}' exists already; give a new file, so that no backup is overwritten");
        }

        var partial = destination + ".partial";
        File.Delete(partial);
        try
        {
            await using (var from = await OpenAsync(source, SqliteOpenMode.ReadOnly, cancellationToken))
            await using (var to = await OpenAsync(partial, SqliteOpenMode.ReadWriteCreate, cancellationToken))
            {
                from.BackupDatabase(to);
            }

            var summary = await CheckAsync(partial, cancellationToken);
            File.Move(partial, destination);
            return summary;
        }
        finally
        {
            File.Delete(partial);
        }
    }

    private static async Task<BackupSummary> CheckAsync(string path, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(path, SqliteOpenMode.ReadOnly, cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA integrity_check";
        if (await command.ExecuteScalarAsync(cancellationToken) is not "ok" and var problem)
        {
            throw new InvalidDataException($"the copy failed SQLite's integrity check: {problem}");
        }

        command.CommandText = "PRAGMA user_version";
        var schema = Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        command.CommandText = "SELECT count(*) FROM hosts";
        var hosts = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        return new BackupSummary(hosts, schema, new FileInfo(path).Length);
    }

    private static async Task<SqliteConnection> OpenAsync(string path, SqliteOpenMode mode, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = mode, Pooling = false }.ToString());
        await connection.OpenAsync(cancellationToken);
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA busy_timeout = 5000";
        await pragma.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }
}
