namespace Heartbeat.Server.Hosts;

// A host in the registry: its record and the registry's bookkeeping of it, read and written under a lock on this instance.
internal sealed class TrackedHost(HostRecord record)
{
    public HostRecord Record { get; } = record;

    // When the sweeper looks at the host next; a queue entry for any other time is stale and skipped.
    public TimeSpan? ScheduledAt { get; set; }

    // Whether the store has yet to receive the latest state.
    public bool Dirty { get; set; }

    // The ping body the store was last given: an unchanged body is not written again.
    public PingBody? StoredBody { get; set; }

    // False once the host is forgotten: a stale reference must not write it back.
    public bool Live { get; set; } = true;

    // The state the HostIndex lists it under (null: not listed yet, or forgotten); changed by the index only.
    public HostState? Listed { get; set; }
}
