using System.Data.Common;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Notify;

namespace Heartbeat.Server.Storage;

// Rows as both stores read them (hosts: see HostColumns): the same columns in the same order, times as
// UTC Unix milliseconds. Each method names the columns its query must select, in order.
internal static class StoreRows
{
    public const string EventColumns = "id, at, host_id, kind, state, ip, previous_ip, last_seen, expected_interval_ms, summary, changes";

    public const string AddressChangeColumns = "at, kind, previous, current, changes";

    public static DateTimeOffset Time(long milliseconds) => HostColumns.ToTime(milliseconds);

    // Reads EventColumns.
    public static HostEvent Event(DbDataReader reader) => new(
        Time(reader.GetInt64(1)), reader.GetString(2), Enum.Parse<HostEventKind>(reader.GetString(3)),
        Enum.Parse<HostState>(reader.GetString(4)), reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetString(6),
        Time(reader.GetInt64(7)), TimeSpan.FromMilliseconds(reader.GetInt64(8)), reader.GetString(9))
    {
        Id = reader.GetInt64(0),
        Changes = reader.GetInt32(10),
    };

    // Reads AddressChangeColumns.
    public static AddressChange AddressChange(DbDataReader reader, string hostId) => new(
        Time(reader.GetInt64(0)), hostId, Enum.Parse<AddressKind>(reader.GetString(1)),
        reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3))
    {
        Changes = reader.GetInt32(4),
    };

    // Reads id, target, payload, attempts.
    public static OutboxEntry OutboxEntry(DbDataReader reader) =>
        new(reader.GetInt64(0), reader.GetString(1), Notification.FromJson(reader.GetString(2)), reader.GetInt32(3));

    // Reads target, pending, parked, delivered, last delivered, last error, last error at.
    public static NotifierStats NotifierStats(DbDataReader reader) => new(
        reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3),
        reader.IsDBNull(4) ? null : Time(reader.GetInt64(4)),
        reader.IsDBNull(5) ? null : reader.GetString(5),
        reader.IsDBNull(6) ? null : Time(reader.GetInt64(6)));

    // Every row the command's query returns, read by read.
    public static async Task<List<T>> ReadAllAsync<T>(DbCommand command, Func<DbDataReader, T> read, CancellationToken cancellationToken)
    {
        var rows = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(read(reader));
        }

        return rows;
    }
}
