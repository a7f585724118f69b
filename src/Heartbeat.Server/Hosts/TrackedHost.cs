namespace Heartbeat.Server.Hosts;

// A host in the registry: its record and the registry's bookkeeping of it, read and written under a lock on this instance.
// The optional values are kept without their nullables' flags (48 bytes an instance, not 64: a million hosts' worth).
internal sealed class TrackedHost(HostRecord record)
{
    private const long NotScheduled = long.MinValue;
    private const sbyte NotListed = -1;

    private long _scheduledAt = NotScheduled;
    private sbyte _listed = NotListed;

    public HostRecord Record { get; } = record;

    // When the sweeper looks at the host next; a queue entry for any other time is stale and skipped.
    public TimeSpan? ScheduledAt
    {
        get => _scheduledAt == NotScheduled ? null : TimeSpan.FromTicks(_scheduledAt);
        set => _scheduledAt = value?.Ticks ?? NotScheduled;
    }

    // Whether the store has yet to receive the latest state.
    public bool Dirty { get; set; }

    // The ping body the store was last given: an unchanged body is not written again.
    public PingBody? StoredBody { get; set; }

    // False once the host is forgotten: a stale reference must not write it back.
    public bool Live { get; set; } = true;

    // The state the HostIndex lists it under (null: not listed yet, or forgotten); changed by the index only.
    public HostState? Listed
    {
        get => _listed == NotListed ? null : (HostState)_listed;
        set => _listed = value is { } state ? (sbyte)state : NotListed;
    }
}
