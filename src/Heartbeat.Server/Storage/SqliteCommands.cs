using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Heartbeat.Server.Hosts;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Heartbeat.Server.Storage;

// Commands as the SQLite store runs them: named parameters for one-off queries, numbered ones ($0…) for a statement
// prepared once and run for many rows (a RowStatement where it runs for every changed host).
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

    public static Task<int> ExecuteAsync(SqliteCommand command, CancellationToken cancellationToken, params ReadOnlySpan<object?> values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i] ?? DBNull.Value;
        }

        return command.ExecuteNonQueryAsync(cancellationToken);
    }
}

// One statement prepared on the connection's own handle and run for every row of a flush, its parameters bound by
// position: a SqliteCommand looks each parameter up by name and opens a data reader for every run, which cost more
// than SQLite's own work for a host's row. It takes part in the connection's transaction like any command.
internal sealed class RowStatement : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly sqlite3_stmt _statement;

    public RowStatement(SqliteConnection connection, string sql)
    {
        _connection = connection;
        SqliteException.ThrowExceptionForRC(raw.sqlite3_prepare_v2(connection.Handle, sql, out _statement), connection.Handle);
    }

    // Runs the statement once with these values for $0, $1, … (null, a string, or a whole number).
    public void Run(params ReadOnlySpan<object?> values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            Bind(i, values[i]);
        }

        Step();
    }

    // Runs it once with a host's columns for $first… (and whatever Bind set before them).
    public void Run(HostRecord host, IReadOnlyList<HostColumn> columns, int first = 0)
    {
        for (var i = 0; i < columns.Count; i++)
        {
            Bind(first + i, columns[i].Get(host));
        }

        Step();
    }

    public void Bind(int index, object? value)
    {
        var position = index + 1; // SQLite counts from 1; $0 is the first parameter in the text
        var rc = value switch
        {
            null => raw.sqlite3_bind_null(_statement, position),
            string text => raw.sqlite3_bind_text(_statement, position, text),
            long number => raw.sqlite3_bind_int64(_statement, position, number),
            int number => raw.sqlite3_bind_int64(_statement, position, number),
            _ => throw new ArgumentException($"No SQLite binding for a {value.GetType().Name}.", nameof(value)),
        };
        SqliteException.ThrowExceptionForRC(rc, _connection.Handle);
    }

    public void Dispose() => _statement.Dispose();

    private void Step()
    {
        var rc = raw.sqlite3_step(_statement);
        raw.sqlite3_reset(_statement);
        if (rc != raw.SQLITE_DONE)
        {
            SqliteException.ThrowExceptionForRC(rc, _connection.Handle);
        }
    }
}

// A query read row by row straight from its statement, for the one query whose rows are many: a restore of a million
// hosts. SqliteDataReader makes two to four calls into SQLite for every column it reads, each checking the statement
// and the column count again; this makes one or two, to SQLite's own functions (see Columns).
internal sealed partial class RowQuery : IStoredRow, IDisposable
{
    private readonly sqlite3 _database;
    private readonly sqlite3_stmt _statement;

    // The statement's own pointer, valid until Dispose: this query alone holds the statement.
    private readonly nint _handle;

    // The texts GetShared handed out, up to SharedTexts of them, found by their characters.
    private const int SharedTexts = 4096;
    private readonly HashSet<string> _shared = new(StringComparer.Ordinal);

    public RowQuery(sqlite3 database, string sql)
    {
        _database = database;
        SqliteException.ThrowExceptionForRC(raw.sqlite3_prepare_v2(database, sql, out _statement), database);
        _handle = _statement.DangerousGetHandle();
    }

    // The file opened read-only for this thread alone: SQLite then takes no lock for each column read.
    public static sqlite3 OpenReadOnly(string path)
    {
        var rc = raw.sqlite3_open_v2(path, out var database, raw.SQLITE_OPEN_READONLY | raw.SQLITE_OPEN_NOMUTEX, null);
        if (rc != raw.SQLITE_OK)
        {
            using (database)
            {
                SqliteException.ThrowExceptionForRC(rc, database);
            }
        }

        return database;
    }

    // Moves to the next row: false after the last.
    public bool Read()
    {
        var rc = raw.sqlite3_step(_statement);
        if (rc is not (raw.SQLITE_ROW or raw.SQLITE_DONE))
        {
            SqliteException.ThrowExceptionForRC(rc, _database);
        }

        return rc == raw.SQLITE_ROW;
    }

    public bool IsNull(int ordinal) => Columns.Type(_handle, ordinal) == raw.SQLITE_NULL;

    public long GetInt64(int ordinal) => Columns.Int64(_handle, ordinal);

    public string GetString(int ordinal) => Encoding.UTF8.GetString(Text(ordinal));

    public string GetShared(int ordinal)
    {
        var text = GetChars(ordinal, stackalloc char[64]);
        if (_shared.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(text, out var shared))
        {
            return shared;
        }

        shared = text.ToString();
        if (_shared.Count < SharedTexts)
        {
            _shared.Add(shared);
        }

        return shared;
    }

    public ReadOnlySpan<char> GetChars(int ordinal, Span<char> scratch)
    {
        var text = Text(ordinal);
        return Encoding.UTF8.TryGetChars(text, scratch, out var written) ? scratch[..written] : Encoding.UTF8.GetString(text);
    }

    public void Dispose() => _statement.Dispose();

    // A text column's UTF-8, as SQLite keeps it until the next row.
    private unsafe ReadOnlySpan<byte> Text(int ordinal)
    {
        var text = Columns.Text(_handle, ordinal);
        return new ReadOnlySpan<byte>((void*)text, Columns.Bytes(_handle, ordinal));
    }

    // SQLite's column getters on the statement's pointer. Through SQLitePCL each call also takes and lets go of a
    // reference to the statement's SafeHandle and goes through the provider's interface: together that cost more
    // than SQLite's own work in a restore of a million hosts (perf). Each returns at once, so the GC need not be told.
    private static partial class Columns
    {
        private const string Library = "e_sqlite3"; // the library SQLitePCL's bundle loads

        [LibraryImport(Library, EntryPoint = "sqlite3_column_type")]
        [SuppressGCTransition]
        public static partial int Type(nint statement, int column);

        [LibraryImport(Library, EntryPoint = "sqlite3_column_int64")]
        [SuppressGCTransition]
        public static partial long Int64(nint statement, int column);

        [LibraryImport(Library, EntryPoint = "sqlite3_column_text")]
        [SuppressGCTransition]
        public static partial nint Text(nint statement, int column);

        [LibraryImport(Library, EntryPoint = "sqlite3_column_bytes")]
        [SuppressGCTransition]
        public static partial int Bytes(nint statement, int column);
    }
}

// The rows readers of one query share out, a few hundred at a time, until as many as were counted are taken.
internal sealed class RowShares(int count)
{
    private const int Share = 256;

    private int _taken;

    // For a reader alone, that reads every row there is.
    public static RowShares ForOneReader() => new(int.MaxValue);

    // How many more rows the asking reader may read: 0 once all are taken.
    public int Claim()
    {
        var end = (long)Interlocked.Add(ref _taken, Share);
        return (int)Math.Clamp(count - (end - Share), 0, Share);
    }
}
