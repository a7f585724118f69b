using System.Data.Common;

namespace Heartbeat.Server.Storage;

// A row of hosts as a store's reader gives it, column by column, in the kinds HostColumns stores: PostgreSQL's through
// its data reader, SQLite's straight from the statement (see RowQuery), so both read a host with the same code.
internal interface IStoredRow
{
    bool IsNull(int ordinal);

    long GetInt64(int ordinal);

    string GetString(int ordinal);

    // A text column many rows have alike (the address of a NAT or a proxy the hosts beat through, a group): the reader
    // may hand the rows one string for it, instead of one each.
    string GetShared(int ordinal);

    // A text column to parse rather than keep (a state's name, the gaps): written into scratch where it fits and the
    // reader can, so that no string is made for it.
    ReadOnlySpan<char> GetChars(int ordinal, Span<char> scratch);
}

internal sealed class DataReaderRow(DbDataReader reader) : IStoredRow
{
    public bool IsNull(int ordinal) => reader.IsDBNull(ordinal);

    public long GetInt64(int ordinal) => reader.GetInt64(ordinal);

    public string GetString(int ordinal) => reader.GetString(ordinal);

    public string GetShared(int ordinal) => reader.GetString(ordinal);

    public ReadOnlySpan<char> GetChars(int ordinal, Span<char> scratch) => reader.GetString(ordinal);
}
