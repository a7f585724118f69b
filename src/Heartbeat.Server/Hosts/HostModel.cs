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

/// <summary>
/// Everything known of one host: what the API shows and the store keeps. The registry holds one per host and changes
/// it only under that host's lock (through <see cref="HostTransitions"/>); everyone else reads a <see cref="Copy"/>.
/// </summary>
internal sealed class HostRecord(string id)
{
    public string Id { get; } = id;

    public string? ReportedIp { get; set; }

    /// <summary>The address the host's beats come from.</summary>
    public string Peer { get; set; } = "-";

    public DateTimeOffset FirstSeen { get; set; }

    public DateTimeOffset LastSeen { get; set; }

    public long Beats { get; set; }

    public string? Message { get; set; }

    public HeartbeatStatus ClientStatus { get; set; }

    public TimeSpan? DeclaredInterval { get; set; }

    public TimeSpan? LearnedInterval { get; set; }

    /// <summary>The latest gaps between beats, which the learned interval comes from.</summary>
    public IntervalEstimator Gaps;

    public int? DeclaredMisses { get; set; }

    public HostState State { get; set; }

    public DateTimeOffset StateSince { get; set; }

    public int IpChanges { get; set; }

    /// <summary>Alerts are paused until then, and a silent host is not down before it.</summary>
    public DateTimeOffset? MaintenanceUntil { get; set; }

    public string? BootId { get; set; }

    /// <summary>The boot before the current one: a beat from it again means two machines share the name.</summary>
    public string? PreviousBootId { get; set; }

    /// <summary>When beats from two boots were last seen alternating.</summary>
    public DateTimeOffset? DuplicateSeenAt { get; set; }

    /// <summary>How far the host's clock was ahead of the server's (negative: behind) at its last beat that said.</summary>
    public TimeSpan? ClockSkew { get; set; }

    /// <summary>The group the host named in its beats.</summary>
    public string? Group { get; set; }

    /// <summary>The site whose outage the host's silence counts towards: its group, a --group rule, or its shared peer address.</summary>
    public string? Site { get; set; }

    /// <summary>When the job behind the host last said it started (/ping/{host}/start) and has not finished since.</summary>
    public DateTimeOffset? StartedAt { get; set; }

    /// <summary>How long the last job run took, from its start to its success or failure.</summary>
    public TimeSpan? LastRunTime { get; set; }

    public PingBody? LastBody { get; set; }

    /// <summary>Judged no earlier than this (set after a restart so that the server's own downtime is not held against anyone).</summary>
    public DateTimeOffset NotBefore { get; set; }

    /// <summary>Time the server itself stood still (a long GC or disk pause) since this host's last beat: added to its deadlines.</summary>
    public TimeSpan PauseCredit { get; set; }

    /// <summary>When the sweeper must look at the host next (it turns late, or down); null once it is down. Kept for a fleet's sweeps.</summary>
    public DateTimeOffset? DueAt { get; set; }

    /// <summary>The address to show for the host: what it reported, else where it connected from.</summary>
    public string Ip => ReportedIp ?? Peer;

    public bool InMaintenance(DateTimeOffset now) => MaintenanceUntil > now;

    public bool ClockOff(TimeSpan warning) => ClockSkew?.Duration() > warning;

    public (TimeSpan Interval, IntervalSource Source) Expected(TimeSpan defaultInterval) =>
        DeclaredInterval is { } declared ? (declared, IntervalSource.Declared)
        : LearnedInterval is { } learned ? (learned, IntervalSource.Learned)
        : (defaultInterval, IntervalSource.Default);

    public DateTimeOffset LateAt(TimeSpan expected) => Liveness.LateAt(LastSeen, expected) + PauseCredit;

    public DateTimeOffset DownAt(TimeSpan expected, int defaultMisses) => Liveness.DownAt(LastSeen, expected, DeclaredMisses ?? defaultMisses) + PauseCredit;

    /// <summary>The host as it stands now, for a reader that must not see later changes.</summary>
    public HostRecord Copy() => (HostRecord)MemberwiseClone();
}

/// <summary>The body of a ping request (a job's output, say), bounded, and what kind of ping carried it.</summary>
internal sealed record PingBody(DateTimeOffset At, string Kind, string Text);

/// <summary>A transition worth telling someone about.</summary>
internal sealed record HostEvent(
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
    /// <summary>Given once, when the event is published (see <see cref="HostEventSink"/>) or stored by a fleet's store.</summary>
    public long Id { get; set; }

    /// <summary>The host is in a maintenance window: the event is logged and shown, but alerts nobody.</summary>
    public bool Silenced { get; init; }

    /// <summary>Its alert waits to see whether the host's whole site went down with it (see <see cref="SiteOutages"/>).</summary>
    public bool Held { get; set; }

    /// <summary>Whether the event alerts anyone now: not in a maintenance window, and not held for its site.</summary>
    public bool Alerts => !Silenced && !Held;
}

/// <summary>One change of a host's reported IP or of the address it connects from.</summary>
internal sealed record AddressChange(DateTimeOffset At, string HostId, AddressKind Kind, string? Previous, string? Current);

internal enum AddressKind
{
    Reported,
    Peer,
}
