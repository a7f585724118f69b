using Cronos;

namespace Heartbeat.Server.Hosts;

internal enum HostState
{
    Up,
    Late,
    Down,
    Failing,

    /// <summary>Silent past its deadline during a maintenance window: down only if still silent when the window ends.</summary>
    Maintenance,

    /// <summary>Expected (an admin added it), but it has not beaten yet: down if it does not appear in time.</summary>
    Pending,
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

/// <summary>Where a host's expected interval comes from, in order of precedence (see <see cref="Liveness"/>).</summary>
internal enum IntervalSource
{
    Schedule,
    Configured,
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

    /// <summary>The interval the host last declared: it holds until the host declares another.</summary>
    public TimeSpan? DeclaredInterval { get; set; }

    public TimeSpan? LearnedInterval { get; set; }

    /// <summary>The latest gaps between beats, which the learned interval comes from.</summary>
    public IntervalEstimator Gaps;

    public int? DeclaredMisses { get; set; }

    /// <summary>Set by an admin: wins over what the host declares or the server learns.</summary>
    public TimeSpan? ConfiguredInterval { get; set; }

    public TimeSpan? ConfiguredGrace { get; set; }

    public int? ConfiguredMisses { get; set; }

    /// <summary>A 5-field cron expression an admin set: the host is expected at its times, in <see cref="TimeZone"/>.</summary>
    public string? Schedule
    {
        get;
        set
        {
            Cron = value is null ? null : CronExpression.Parse(value);
            field = value;
        }
    }

    public CronExpression? Cron { get; private set; }

    /// <summary>The IANA time zone of <see cref="Schedule"/> (UTC when none is set).</summary>
    public string? TimeZone
    {
        get => Zone?.Id;
        set => Zone = value is null ? null : TimeZoneInfo.FindSystemTimeZoneById(value);
    }

    public TimeZoneInfo? Zone { get; private set; }

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

    /// <summary>The monotonic time of the last beat: deadlines run from it (see <see cref="Now"/>).</summary>
    public TimeSpan LastSeenMono { get; set; }

    /// <summary>The monotonic time <see cref="MaintenanceUntil"/> comes.</summary>
    public TimeSpan? MaintenanceEndsMono { get; set; }

    /// <summary>Judged no earlier than this monotonic time (set after a restart so that the server's own downtime is held against nobody).</summary>
    public TimeSpan NotBefore { get; set; }

    /// <summary>Time the server itself stood still (a long GC or disk pause) since this host's last beat: added to its deadlines.</summary>
    public TimeSpan PauseCredit { get; set; }

    /// <summary>When the sweeper must look at the host next (it turns late, or down); null once it is down. Kept for a fleet's sweeps.</summary>
    public DateTimeOffset? DueAt { get; set; }

    /// <summary>The address to show for the host: what it reported, else where it connected from.</summary>
    public string Ip => ReportedIp ?? Peer;

    public bool InMaintenance(Now now) => MaintenanceEndsMono > now.Mono;

    public bool ClockOff(TimeSpan warning) => ClockSkew?.Duration() > warning;

    /// <summary>Puts the monotonic times where the stored wall-clock times say, as the clock reads <paramref name="now"/>.</summary>
    public void PlaceOnClock(Now now)
    {
        LastSeenMono = now.MonoAt(LastSeen);
        MaintenanceEndsMono = MaintenanceUntil is { } until ? now.MonoAt(until) : null;
    }

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
