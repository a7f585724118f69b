using Cronos;

namespace Heartbeat.Server.Hosts;

internal enum HostState
{
    Up,
    Late,
    Down,
    Failing,

    // Silent past its deadline during a maintenance window: down only if still silent when the window ends.
    Maintenance,

    // Expected (an admin added it), but it has not beaten yet: down if it does not appear in time.
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

// Where a host's expected interval comes from, in order of precedence (see Liveness).
internal enum IntervalSource
{
    Schedule,
    Configured,
    Declared,
    Learned,
    Default,
}

// Everything known of one host: what the API shows and the store keeps. The registry holds one per host and changes
// it only under that host's lock (through HostTransitions); everyone else reads a Copy.
internal sealed class HostRecord(string id)
{
    public string Id { get; } = id;

    public string? ReportedIp { get; set; }

    // The address the host's beats come from.
    public string Peer { get; set; } = "-";

    public DateTimeOffset FirstSeen { get; set; }

    public DateTimeOffset LastSeen { get; set; }

    public long Beats { get; set; }

    public string? Message { get; set; }

    public HeartbeatStatus ClientStatus { get; set; }

    // The interval the host last declared: it holds until the host declares another.
    public TimeSpan? DeclaredInterval { get; set; }

    public TimeSpan? LearnedInterval { get; set; }

    // The latest gaps between beats, which the learned interval comes from.
    public IntervalEstimator Gaps;

    public int? DeclaredMisses { get; set; }

    // Set by an admin: wins over what the host declares or the server learns.
    public TimeSpan? ConfiguredInterval { get; set; }

    public TimeSpan? ConfiguredGrace { get; set; }

    public int? ConfiguredMisses { get; set; }

    // A 5-field cron expression an admin set: the host is expected at its times, in TimeZone.
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

    // The IANA time zone of Schedule (UTC when none is set).
    public string? TimeZone
    {
        get => Zone?.Id;
        set => Zone = value is null ? null : TimeZoneInfo.FindSystemTimeZoneById(value);
    }

    public TimeZoneInfo? Zone { get; private set; }

    public HostState State { get; set; }

    public DateTimeOffset StateSince { get; set; }

    public int IpChanges { get; set; }

    // Alerts are paused until then, and a silent host is not down before it.
    public DateTimeOffset? MaintenanceUntil { get; set; }

    public string? BootId { get; set; }

    // The boot before the current one: a beat from it again means two machines share the name.
    public string? PreviousBootId { get; set; }

    // When beats from two boots were last seen alternating.
    public DateTimeOffset? DuplicateSeenAt { get; set; }

    // How far the host's clock was ahead of the server's (negative: behind) at its last beat that said.
    public TimeSpan? ClockSkew { get; set; }

    // The group the host named in its beats.
    public string? Group { get; set; }

    // The site whose outage the host's silence counts towards: its group, a --group rule, or its shared peer address.
    public string? Site { get; set; }

    // When the job behind the host last said it started (/ping/{host}/start) and has not finished since.
    public DateTimeOffset? StartedAt { get; set; }

    // How long the last job run took, from its start to its success or failure.
    public TimeSpan? LastRunTime { get; set; }

    public PingBody? LastBody { get; set; }

    // The monotonic time of the last beat: deadlines run from it (see Now).
    public TimeSpan LastSeenMono { get; set; }

    // The monotonic time MaintenanceUntil comes.
    public TimeSpan? MaintenanceEndsMono { get; set; }

    // Judged no earlier than this monotonic time (set after a restart so that the server's own downtime is held against nobody).
    public TimeSpan NotBefore { get; set; }

    // Time the server itself stood still (a long GC or disk pause) since this host's last beat: added to its deadlines.
    public TimeSpan PauseCredit { get; set; }

    // When the sweeper must look at the host next (it turns late, or down); null once it is down. Kept for a fleet's sweeps.
    public DateTimeOffset? DueAt { get; set; }

    // The address to show for the host: what it reported, else where it connected from.
    public string Ip => ReportedIp ?? Peer;

    public bool InMaintenance(Now now) => MaintenanceEndsMono > now.Mono;

    public bool ClockOff(TimeSpan warning) => ClockSkew?.Duration() > warning;

    // Puts the monotonic times where the stored wall-clock times say, as the clock reads now.
    public void PlaceOnClock(Now now)
    {
        LastSeenMono = now.MonoAt(LastSeen);
        MaintenanceEndsMono = MaintenanceUntil is { } until ? now.MonoAt(until) : null;
    }

    // The host as it stands now, for a reader that must not see later changes.
    public HostRecord Copy() => (HostRecord)MemberwiseClone();
}

// The body of a ping request (a job's output, say), bounded, and what kind of ping carried it; Text is null when
// the body was not kept (see PingBodies).
internal sealed record PingBody(DateTimeOffset At, string Kind, string? Text)
{
    // The same kind and text, whenever sent.
    public static bool SameContent(PingBody? a, PingBody? b) =>
        ReferenceEquals(a, b) || (a is not null && b is not null && a.Kind == b.Kind && string.Equals(a.Text, b.Text, StringComparison.Ordinal));
}

// A transition worth telling someone about.
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
    // Given once, when the event is published (see HostEventSink) or stored by a fleet's store.
    public long Id { get; set; }

    // The host is in a maintenance window: the event is logged and shown, but alerts nobody.
    public bool Silenced { get; init; }

    // Its alert waits to see whether the host's whole site went down with it (see SiteOutages).
    public bool Held { get; set; }

    // Whether the event alerts anyone now: not in a maintenance window, and not held for its site.
    public bool Alerts => !Silenced && !Held;

    // How many IP changes a stored ip-changed event stands for: those a host made between two flushes are stored as
    // one (see FlushCoalescing).
    public int Changes { get; init; } = 1;
}

// One change of a host's reported IP or of the address it connects from; once stored, all its changes of that
// address between two flushes, from the first one's previous address (see FlushCoalescing).
internal sealed record AddressChange(DateTimeOffset At, string HostId, AddressKind Kind, string? Previous, string? Current)
{
    public int Changes { get; init; } = 1;
}

internal enum AddressKind
{
    Reported,
    Peer,
}
