namespace Heartbeat.Server.Hosts;

// A byte, as HeartbeatStatus: every host keeps one of each, a million hosts at most.
internal enum HostState : byte
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
