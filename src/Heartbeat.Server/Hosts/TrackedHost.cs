namespace Heartbeat.Server.Hosts;

/// <summary>A host in the registry: its record and the registry's bookkeeping of it, read and written under a lock on this instance.</summary>
internal sealed class TrackedHost(HostRecord record)
{
    public HostRecord Record { get; } = record;

    /// <summary>When the sweeper looks at the host next; a queue entry for any other time is stale and skipped.</summary>
    public TimeSpan? ScheduledAt { get; set; }

    /// <summary>Whether the store has yet to receive the latest state.</summary>
    public bool Dirty { get; set; }

    /// <summary>False once the host is forgotten: a stale reference must not write it back.</summary>
    public bool Live { get; set; } = true;
}
