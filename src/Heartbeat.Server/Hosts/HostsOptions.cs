namespace Heartbeat.Server.Hosts;

internal sealed record HostsOptions
{
    /// <summary>Expected interval of a host that neither declares one nor has beaten often enough to learn it from.</summary>
    public TimeSpan DefaultInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Missed intervals before a host is down, for hosts that do not say (the "misses" field).</summary>
    public int MissesBeforeDown { get; init; } = 1;

    /// <summary>How often the sweeper looks for hosts past their deadline; a host is marked down at most this late.</summary>
    public TimeSpan SweepInterval { get; init; } = TimeSpan.FromMilliseconds(250);
}
