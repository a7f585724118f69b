namespace Heartbeat.Server.Hosts;

internal sealed record HostsOptions
{
    /// <summary>Expected interval of a host that neither declares one nor has beaten often enough to learn it from.</summary>
    public TimeSpan DefaultInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Gaps between beats shorter than this are bursts, not a rhythm: never learned from, and no learned interval is shorter.</summary>
    public TimeSpan MinInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Missed intervals before a host is down, for hosts that do not say (the "misses" field).</summary>
    public int MissesBeforeDown { get; init; } = 1;

    /// <summary>How often the sweeper looks for hosts past their deadline; a host is marked down at most this late.</summary>
    public TimeSpan SweepInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>A host whose clock is further off than this (either way) gets a clock-skew event and a warning on the page.</summary>
    public TimeSpan ClockSkewWarning { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a down host's alert waits for the rest of its site to go silent too, before it goes out on its own.</summary>
    public TimeSpan OutageWindow { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Named address ranges (--group NAME=CIDR): hosts whose IP or peer address falls in one form a site.</summary>
    public IReadOnlyList<SiteRule> SiteRules { get; init; } = [];

    /// <summary>Whether hosts are grouped into sites at all; off in a fleet, where alerts are decided by the shared store.</summary>
    public bool CorrelateSites { get; init; } = true;
}
