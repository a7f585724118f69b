using System.Data.Common;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Ingest;
using Heartbeat.Server.Notify;

namespace Heartbeat.Server.Storage;

/// <summary>
/// Rows as both stores read them: the same columns in the same order, times as UTC Unix milliseconds.
/// Each method names the columns its query must select, in order.
/// </summary>
internal static class StoreRows
{
    /// <summary>The host columns both stores keep, in the order <see cref="Host"/> reads them.</summary>
    public const string HostColumns = """
        id, reported_ip, peer, first_seen, last_seen, beats, message, client_status,
        declared_interval_ms, learned_interval_ms, state, state_since, ip_changes, declared_misses,
        maintenance_until, boot_id, previous_boot_id, duplicate_seen_at, clock_skew_ms, host_group,
        started_at, last_run_ms, body_at, body_kind, body
        """;

    public const string EventColumns = "id, at, host_id, kind, state, ip, previous_ip, last_seen, expected_interval_ms, summary";

    public static DateTimeOffset Time(long milliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);

    public static HostSnapshot Host(DbDataReader reader)
    {
        string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
        long? Number(int i) => reader.IsDBNull(i) ? null : reader.GetInt64(i);
        var declared = Number(8) is { } d ? TimeSpan.FromMilliseconds(d) : (TimeSpan?)null;
        var learned = Number(9) is { } l ? TimeSpan.FromMilliseconds(l) : (TimeSpan?)null;
        return new HostSnapshot(
            Id: reader.GetString(0),
            ReportedIp: Text(1),
            Peer: reader.GetString(2),
            FirstSeen: Time(reader.GetInt64(3)),
            LastSeen: Time(reader.GetInt64(4)),
            Beats: reader.GetInt64(5),
            Message: Text(6),
            ClientStatus: Enum.Parse<HeartbeatStatus>(reader.GetString(7)),
            DeclaredInterval: declared,
            LearnedInterval: learned,
            ExpectedInterval: declared ?? learned ?? TimeSpan.Zero,
            IntervalSource: declared is not null ? IntervalSource.Declared : learned is not null ? IntervalSource.Learned : IntervalSource.Default,
            State: Enum.Parse<HostState>(reader.GetString(10)),
            StateSince: Time(reader.GetInt64(11)),
            IpChanges: reader.GetInt32(12),
            DeclaredMisses: reader.IsDBNull(13) ? null : reader.GetInt32(13))
        {
            MaintenanceUntil = Number(14) is { } maintenance ? Time(maintenance) : null,
            BootId = Text(15),
            PreviousBootId = Text(16),
            DuplicateSeenAt = Number(17) is { } duplicate ? Time(duplicate) : null,
            ClockSkew = Number(18) is { } skew ? TimeSpan.FromMilliseconds(skew) : null,
            Group = Text(19),
            StartedAt = Number(20) is { } started ? Time(started) : null,
            LastRunTime = Number(21) is { } run ? TimeSpan.FromMilliseconds(run) : null,
            LastBody = Number(22) is { } bodyAt ? new PingBody(Time(bodyAt), reader.GetString(23), reader.GetString(24)) : null,
        };
    }

    /// <summary>Reads <see cref="EventColumns"/>.</summary>
    public static HostEvent Event(DbDataReader reader) => new(
        reader.GetInt64(0), Time(reader.GetInt64(1)), reader.GetString(2), Enum.Parse<HostEventKind>(reader.GetString(3)),
        Enum.Parse<HostState>(reader.GetString(4)), reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetString(6),
        Time(reader.GetInt64(7)), TimeSpan.FromMilliseconds(reader.GetInt64(8)), reader.GetString(9));

    /// <summary>Reads at, kind, previous, current.</summary>
    public static AddressChange AddressChange(DbDataReader reader, string hostId) => new(
        Time(reader.GetInt64(0)), hostId, Enum.Parse<AddressKind>(reader.GetString(1)),
        reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3));

    /// <summary>Reads id, target, payload, attempts.</summary>
    public static OutboxEntry OutboxEntry(DbDataReader reader) =>
        new(reader.GetInt64(0), reader.GetString(1), Notification.FromJson(reader.GetString(2)), reader.GetInt32(3));

    /// <summary>Reads target, pending, parked, delivered, last delivered, last error, last error at.</summary>
    public static NotifierStats NotifierStats(DbDataReader reader) => new(
        reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3),
        reader.IsDBNull(4) ? null : Time(reader.GetInt64(4)),
        reader.IsDBNull(5) ? null : reader.GetString(5),
        reader.IsDBNull(6) ? null : Time(reader.GetInt64(6)));

    /// <summary>Every row the command's query returns, read by <paramref name="read"/>.</summary>
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
