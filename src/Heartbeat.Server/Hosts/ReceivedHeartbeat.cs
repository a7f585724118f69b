namespace Heartbeat.Server.Hosts;

internal enum HeartbeatStatus : byte
{
    Up,
    Fail,
}

// A heartbeat that passed validation: every string in it is safe to log and to show.
// Ip: The address the client reported, in canonical form, or null.
// Host: The client's stable name, or null.
// Interval: Time until the next beat the client promises, or null.
// Status: What the client says of itself.
// Message: A short note from the client, or null.
// MissesBeforeDown: How many intervals the client may miss before it counts as down, or null for the server's setting.
internal sealed record ReceivedHeartbeat(
    string? Ip = null,
    string? Host = null,
    TimeSpan? Interval = null,
    HeartbeatStatus Status = HeartbeatStatus.Up,
    string? Message = null,
    int? MissesBeforeDown = null)
{
    // A maintenance window starting now (zero ends one), or null to leave any window as it is.
    public TimeSpan? Maintenance { get; init; }

    // What identifies the client's current boot (Linux boot id, or its boot time), or null.
    public string? BootId { get; init; }

    // The client's clock when it sent the beat, or null.
    public DateTimeOffset? ClientTime { get; init; }

    // The site or group the client says it belongs to, for correlated outages; null to let the server decide.
    public string? Group { get; init; }

    // The body of a ping request (a job's output), kept with the host but never logged.
    public string? Body { get; init; }

    public static readonly ReceivedHeartbeat Empty = new();
}
