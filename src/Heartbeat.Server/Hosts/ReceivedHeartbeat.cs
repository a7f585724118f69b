namespace Heartbeat.Server.Hosts;

internal enum HeartbeatStatus
{
    Up,
    Fail,
}

/// <summary>A heartbeat that passed validation: every string in it is safe to log and to show.</summary>
/// <param name="Ip">The address the client reported, in canonical form, or null.</param>
/// <param name="Host">The client's stable name, or null.</param>
/// <param name="Interval">Time until the next beat the client promises, or null.</param>
/// <param name="Status">What the client says of itself.</param>
/// <param name="Message">A short note from the client, or null.</param>
/// <param name="MissesBeforeDown">How many intervals the client may miss before it counts as down, or null for the server's setting.</param>
internal sealed record ReceivedHeartbeat(
    string? Ip = null,
    string? Host = null,
    TimeSpan? Interval = null,
    HeartbeatStatus Status = HeartbeatStatus.Up,
    string? Message = null,
    int? MissesBeforeDown = null)
{
    /// <summary>A maintenance window starting now (zero ends one), or null to leave any window as it is.</summary>
    public TimeSpan? Maintenance { get; init; }

    /// <summary>What identifies the client's current boot (Linux boot id, or its boot time), or null.</summary>
    public string? BootId { get; init; }

    /// <summary>The client's clock when it sent the beat, or null.</summary>
    public DateTimeOffset? ClientTime { get; init; }

    /// <summary>The site or group the client says it belongs to, for correlated outages; null to let the server decide.</summary>
    public string? Group { get; init; }

    /// <summary>The body of a ping request (a job's output), kept with the host but never logged.</summary>
    public string? Body { get; init; }

    public static readonly ReceivedHeartbeat Empty = new();
}
