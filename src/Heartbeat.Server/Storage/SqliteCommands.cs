using System.Globalization;
using Heartbeat.Server.Hosts;
using Microsoft.Data.Sqlite;

namespace Heartbeat.Server.Storage;

// Commands as the SQLite store runs them: named parameters for one-off queries, numbered ones ($0…) for a statement
// prepared once and run for many rows.
internal static class SqliteCommands
{
    public static void Bind(SqliteCommand command, params ReadOnlySpan<(string Name, object? Value)> parameters)
    {
        command.Parameters.Clear();
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }
    }

    // A command with parameters $0…$n-1, created once and run for many rows with new values.
    public static SqliteCommand Prepare(SqliteConnection connection, string sql, int parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        for (var i = 0; i < parameters; i++)
        {
            command.Parameters.Add(new SqliteParameter(string.Create(CultureInfo.InvariantCulture, $"${i}"), null));
        }

        return command;
    }

    public static void Set(SqliteCommand command, HostRecord host, IReadOnlyList<HostColumn> columns, int first = 0)
    {
        for (var i = 0; i < columns.Count; i++)
        {
            command.Parameters[first + i].Value = columns[i].Get(host) ?? DBNull.Value;
        }
    }

    public static Task<int> ExecuteAsync(SqliteCommand command, CancellationToken cancellationToken, params ReadOnlySpan<object?> values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i] ?? DBNull.Value;
        }

        return command.ExecuteNonQueryAsync(cancellationToken);
    }
}
