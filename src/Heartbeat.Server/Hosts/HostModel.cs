using Heartbeat.Server.Ingest;

namespace Heartbeat.Server.Hosts;

internal enum HostState
{
    Up,
    Late,
    Down,
    Failing,
}

internal enum HostEventKind
{
    New,
    Down,
    Recovered,
    IpChanged,
    Failing,
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
}

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
    string Summary);

/// <summary>One change of a host's reported IP or of the address it connects from.</summary>
internal sealed record AddressChange(DateTimeOffset At, string HostId, AddressKind Kind, string? Previous, string? Current);

internal enum AddressKind
{
    Reported,
    Peer,
}
