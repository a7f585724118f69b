using Heartbeat.Server.Ingest;

namespace Heartbeat.Server.Hosts;

internal enum HostState
{
    Up,
    Late,
    Down,
    Failing,

    /// <summary>Silent past its deadline during a maintenance window: down only if still silent when the window ends.</summary>
    Maintenance,
}

internal enum HostEventKind
{
    New,
    Down,
    Recovered,
    IpChanged,
    Failing,
    Maintenance,
    Rebooted,
    DuplicateIdentity,
    ClockSkew,
    SiteDown,
    SiteRecovered,
}

/// <summary>Where a host's expected interval comes from, in order of precedence.</summary>
internal enum IntervalSource
{
    Declared,
    Learned,
    Default,
}

/// <summary>A host as it stands at one moment: what the API shows and the store keeps.</summary>
internal sealed record HostSnapshot(
    string Id,
    string? ReportedIp,
    string Peer,
    DateTimeOffset FirstSeen,
    DateTimeOffset LastSeen,
    long Beats,
    string? Message,
    HeartbeatStatus ClientStatus,
    TimeSpan? DeclaredInterval,
    TimeSpan? LearnedInterval,
    TimeSpan ExpectedInterval,
    IntervalSource IntervalSource,
    HostState State,
    DateTimeOffset StateSince,
    int IpChanges,
    int? DeclaredMisses = null)
{
    /// <summary>The address to show for the host: what it reported, else where it connected from.</summary>
    public string Ip => ReportedIp ?? Peer;

    /// <summary>Alerts are paused until then, and a silent host is not down before it.</summary>
    public DateTimeOffset? MaintenanceUntil { get; init; }

    public string? BootId { get; init; }

    /// <summary>The boot before the current one: a beat from it again means two machines share the name.</summary>
    public string? PreviousBootId { get; init; }

    /// <summary>When beats from two boots were last seen alternating.</summary>
    public DateTimeOffset? DuplicateSeenAt { get; init; }

    /// <summary>How far the host's clock was ahead of the server's (negative: behind) at its last beat that said.</summary>
    public TimeSpan? ClockSkew { get; init; }

    /// <summary>Whether <see cref="ClockSkew"/> is past the server's warning threshold.</summary>
    public bool ClockOff { get; init; }

    /// <summary>The group the host named in its beats.</summary>
    public string? Group { get; init; }

    /// <summary>The site whose outage the host's silence counts towards: its group, a --group rule, or its shared peer address.</summary>
    public string? Site { get; init; }

    /// <summary>When the job behind the host last said it started (/ping/{host}/start) and has not finished since.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>How long the last job run took, from its start to its success or failure.</summary>
    public TimeSpan? LastRunTime { get; init; }

    public PingBody? LastBody { get; init; }

    /// <summary>The latest gaps between beats in seconds, oldest first, that the learned interval comes from.</summary>
    public IReadOnlyList<float> RecentGaps { get; init; } = [];

    /// <summary>Time the server stood still since the host's last beat, added to its deadlines.</summary>
    public TimeSpan PauseCredit { get; init; }

    /// <summary>When the sweeper must look at the host next: when it turns late, or down; null once it is down.</summary>
    public DateTimeOffset? DueAt { get; init; }
}

/// <summary>The body of a ping request (a job's output, say), bounded, and what kind of ping carried it.</summary>
internal sealed record PingBody(DateTimeOffset At, string Kind, string Text);

/// <summary>A transition worth telling someone about.</summary>
internal sealed record HostEvent(
    long Id,
    DateTimeOffset At,
    string HostId,
    HostEventKind Kind,
    HostState State,
    string Ip,
    string? PreviousIp,
    DateTimeOffset LastSeen,
    TimeSpan ExpectedInterval,
    string Summary)
{
    /// <summary>The host is in a maintenance window: the event is logged and shown, but alerts nobody.</summary>
    public bool Silenced { get; init; }

    /// <summary>Its alert waits to see whether the host's whole site went down with it (see <see cref="SiteOutages"/>).</summary>
    public bool Held { get; init; }
}

/// <summary>One change of a host's reported IP or of the address it connects from.</summary>
internal sealed record AddressChange(DateTimeOffset At, string HostId, AddressKind Kind, string? Previous, string? Current);

internal enum AddressKind
{
    Reported,
    Peer,
}
