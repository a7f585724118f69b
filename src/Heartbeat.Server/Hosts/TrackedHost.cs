using Heartbeat.Server.Ingest;

namespace Heartbeat.Server.Hosts;

/// <summary>A host's live record in the registry. Every field is read and written under a lock on the instance.</summary>
internal sealed class TrackedHost(string id)
{
    public string Id { get; } = id;

    public string? ReportedIp { get; set; }

    public string Peer { get; set; } = "-";

    public DateTimeOffset FirstSeen { get; set; }

    public DateTimeOffset LastSeen { get; set; }

    public long Beats { get; set; }

    public string? Message { get; set; }

    public HeartbeatStatus ClientStatus { get; set; }

    public TimeSpan? DeclaredInterval { get; set; }

    public TimeSpan? LearnedInterval { get; set; }

    public int? DeclaredMisses { get; set; }

    public IntervalEstimator Gaps;

    public HostState State { get; set; }

    public DateTimeOffset StateSince { get; set; }

    public int IpChanges { get; set; }

    public DateTimeOffset? MaintenanceUntil { get; set; }

    public string? BootId { get; set; }

    public string? PreviousBootId { get; set; }

    public DateTimeOffset? DuplicateSeenAt { get; set; }

    public TimeSpan? ClockSkew { get; set; }

    public string? Group { get; set; }

    public string? Site { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public TimeSpan? LastRunTime { get; set; }

    public PingBody? LastBody { get; set; }

    public bool InMaintenance(DateTimeOffset now) => MaintenanceUntil > now;

    /// <summary>Judged no earlier than this (set after a restart so that the server's own downtime is not held against anyone).</summary>
    public DateTimeOffset NotBefore { get; set; }

    /// <summary>Time the server itself stood still (a long GC or disk pause) since this host's last beat: added to its deadlines.</summary>
    public TimeSpan PauseCredit { get; set; }

    public DateTimeOffset LateAt(TimeSpan expected) => Liveness.LateAt(LastSeen, expected) + PauseCredit;

    public DateTimeOffset DownAt(TimeSpan expected, int defaultMisses) => Liveness.DownAt(LastSeen, expected, DeclaredMisses ?? defaultMisses) + PauseCredit;

    /// <summary>When the sweeper looks at the host next; a queue entry for any other time is stale and skipped.</summary>
    public DateTimeOffset? ScheduledAt { get; set; }

    /// <summary>Whether the store has yet to receive the latest state.</summary>
    public bool Dirty { get; set; }

    /// <summary>False once the host is forgotten: a stale reference must not write it back.</summary>
    public bool Live { get; set; } = true;

    public (TimeSpan Interval, IntervalSource Source) Expected(TimeSpan defaultInterval) =>
        DeclaredInterval is { } declared ? (declared, IntervalSource.Declared)
        : LearnedInterval is { } learned ? (learned, IntervalSource.Learned)
        : (defaultInterval, IntervalSource.Default);

    /// <summary>Takes on what a store kept of the host (the host's lock held, unless no one else can see it yet).</summary>
    public void Load(HostSnapshot stored)
    {
        ReportedIp = stored.ReportedIp;
        Peer = stored.Peer;
        FirstSeen = stored.FirstSeen;
        LastSeen = stored.LastSeen;
        Beats = stored.Beats;
        Message = stored.Message;
        ClientStatus = stored.ClientStatus;
        DeclaredInterval = stored.DeclaredInterval;
        LearnedInterval = stored.LearnedInterval;
        Gaps = IntervalEstimator.Of(stored.RecentGaps);
        State = stored.State;
        StateSince = stored.StateSince;
        IpChanges = stored.IpChanges;
        DeclaredMisses = stored.DeclaredMisses;
        MaintenanceUntil = stored.MaintenanceUntil;
        BootId = stored.BootId;
        PreviousBootId = stored.PreviousBootId;
        DuplicateSeenAt = stored.DuplicateSeenAt;
        ClockSkew = stored.ClockSkew;
        Group = stored.Group;
        StartedAt = stored.StartedAt;
        LastRunTime = stored.LastRunTime;
        LastBody = stored.LastBody;
        PauseCredit = stored.PauseCredit;
    }

    public HostSnapshot Snapshot(HostsOptions options)
    {
        var (interval, source) = Expected(options.DefaultInterval);
        return new HostSnapshot(
            Id, ReportedIp, Peer, FirstSeen, LastSeen, Beats, Message, ClientStatus,
            DeclaredInterval, LearnedInterval, interval, source, State, StateSince, IpChanges, DeclaredMisses)
        {
            MaintenanceUntil = MaintenanceUntil,
            BootId = BootId,
            PreviousBootId = PreviousBootId,
            DuplicateSeenAt = DuplicateSeenAt,
            ClockSkew = ClockSkew,
            ClockOff = ClockSkew?.Duration() > options.ClockSkewWarning,
            Group = Group,
            Site = Site,
            StartedAt = StartedAt,
            LastRunTime = LastRunTime,
            LastBody = LastBody,
            PauseCredit = PauseCredit,
        };
    }
}
