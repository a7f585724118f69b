using Cronos;

namespace Heartbeat.Server.Hosts;

// Everything known of one host: what the API shows and the store keeps. The registry holds one per host and changes
// it only under that host's lock (through HostTransitions); everyone else reads a Copy.
//
// A server may hold a million of these, so the record is kept small: the times every host has are stored as ticks
// (8 bytes, not the 16-24 of a DateTimeOffset or a nullable), and what few hosts ever set lives in a part allocated
// on first use (see RareFields).
internal sealed class HostRecord(string id)
{
    private const long None = long.MinValue;

    private long _firstSeen;
    private long _lastSeen;
    private long _stateSince;
    private long _dueAt = None;
    private long _declaredInterval = None;
    private long _learnedInterval = None;
    private long _clockSkew = None;
    private RareFields? _rare;

    public string Id { get; } = id;

    public string? ReportedIp { get; set; }

    // The address the host's beats come from.
    public string Peer { get; set; } = "-";

    public DateTimeOffset FirstSeen { get => Instant(_firstSeen); set => _firstSeen = value.UtcTicks; }

    public DateTimeOffset LastSeen { get => Instant(_lastSeen); set => _lastSeen = value.UtcTicks; }

    public long Beats { get; set; }

    public string? Message { get; set; }

    public HeartbeatStatus ClientStatus { get; set; }

    // The interval the host last declared: it holds until the host declares another.
    public TimeSpan? DeclaredInterval { get => Duration(_declaredInterval); set => _declaredInterval = Ticks(value); }

    public TimeSpan? LearnedInterval { get => Duration(_learnedInterval); set => _learnedInterval = Ticks(value); }

    // The latest gaps between beats, which the learned interval comes from.
    public IntervalEstimator Gaps;

    public int? DeclaredMisses { get; set; }

    // Set by an admin: wins over what the host declares or the server learns.
    public TimeSpan? ConfiguredInterval { get => _rare?.ConfiguredInterval; set => RareFor(value)?.ConfiguredInterval = value; }

    public TimeSpan? ConfiguredGrace { get => _rare?.ConfiguredGrace; set => RareFor(value)?.ConfiguredGrace = value; }

    public int? ConfiguredMisses { get => _rare?.ConfiguredMisses; set => RareFor(value)?.ConfiguredMisses = value; }

    // A 5-field cron expression an admin set: the host is expected at its times, in TimeZone.
    public string? Schedule
    {
        get => _rare?.Schedule.Text;
        set => RareFor(value)?.Schedule = (value, value is null ? null : CronExpression.Parse(value));
    }

    public CronExpression? Cron => _rare?.Schedule.Cron;

    // The IANA time zone of Schedule (UTC when none is set).
    public string? TimeZone
    {
        get => Zone?.Id;
        set => RareFor(value)?.Zone = value is null ? null : TimeZoneInfo.FindSystemTimeZoneById(value);
    }

    public TimeZoneInfo? Zone => _rare?.Zone;

    public HostState State { get; set; }

    public DateTimeOffset StateSince { get => Instant(_stateSince); set => _stateSince = value.UtcTicks; }

    public int IpChanges { get; set; }

    // Alerts are paused until then, and a silent host is not down before it.
    public DateTimeOffset? MaintenanceUntil { get => _rare?.MaintenanceUntil; set => RareFor(value)?.MaintenanceUntil = value; }

    public string? BootId { get; set; }

    // The boot before the current one: a beat from it again means two machines share the name.
    public string? PreviousBootId { get => _rare?.PreviousBootId; set => RareFor(value)?.PreviousBootId = value; }

    // When beats from two boots were last seen alternating.
    public DateTimeOffset? DuplicateSeenAt { get => _rare?.DuplicateSeenAt; set => RareFor(value)?.DuplicateSeenAt = value; }

    // How far the host's clock was ahead of the server's (negative: behind) at its last beat that said.
    public TimeSpan? ClockSkew { get => Duration(_clockSkew); set => _clockSkew = Ticks(value); }

    // The group the host named in its beats.
    public string? Group { get; set; }

    // The site whose outage the host's silence counts towards: its group, a --group rule, or its shared peer address.
    public string? Site { get; set; }

    // When the job behind the host last said it started (/ping/{host}/start) and has not finished since.
    public DateTimeOffset? StartedAt { get => _rare?.StartedAt; set => RareFor(value)?.StartedAt = value; }

    // How long the last job run took, from its start to its success or failure.
    public TimeSpan? LastRunTime { get => _rare?.LastRunTime; set => RareFor(value)?.LastRunTime = value; }

    public PingBody? LastBody { get => _rare?.LastBody; set => RareFor(value)?.LastBody = value; }

    // The monotonic time of the last beat: deadlines run from it (see Now).
    public TimeSpan LastSeenMono { get; set; }

    // The monotonic time MaintenanceUntil comes.
    public TimeSpan? MaintenanceEndsMono { get => _rare?.MaintenanceEndsMono; set => RareFor(value)?.MaintenanceEndsMono = value; }

    // Judged no earlier than this monotonic time (set after a restart so that the server's own downtime is held against nobody).
    public TimeSpan NotBefore { get; set; }

    // Time the server itself stood still (a long GC or disk pause) since this host's last beat: added to its deadlines.
    public TimeSpan PauseCredit { get; set; }

    // When the sweeper must look at the host next (it turns late, or down); null once it is down. Kept for a fleet's sweeps.
    public DateTimeOffset? DueAt { get => _dueAt == None ? null : Instant(_dueAt); set => _dueAt = value?.UtcTicks ?? None; }

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
    public HostRecord Copy()
    {
        var copy = (HostRecord)MemberwiseClone();
        copy._rare = _rare?.Copy();
        return copy;
    }

    private static DateTimeOffset Instant(long utcTicks) => new(utcTicks, TimeSpan.Zero);

    private static TimeSpan? Duration(long ticks) => ticks == None ? null : TimeSpan.FromTicks(ticks);

    private static long Ticks(TimeSpan? duration) => duration?.Ticks ?? None;

    // The rare part, for setting a value: allocated for a value, but not just to hold a null.
    private RareFields? RareFor<T>(T? value) => _rare ?? (value is null ? null : _rare = new RareFields());

    // What an admin sets, jobs' start pings, ping bodies and duplicate boots: most hosts never have any of them.
    private sealed class RareFields
    {
        public TimeSpan? ConfiguredInterval;
        public TimeSpan? ConfiguredGrace;
        public int? ConfiguredMisses;
        public (string? Text, CronExpression? Cron) Schedule;
        public TimeZoneInfo? Zone;
        public DateTimeOffset? MaintenanceUntil;
        public TimeSpan? MaintenanceEndsMono;
        public string? PreviousBootId;
        public DateTimeOffset? DuplicateSeenAt;
        public DateTimeOffset? StartedAt;
        public TimeSpan? LastRunTime;
        public PingBody? LastBody;

        public RareFields Copy() => (RareFields)MemberwiseClone();
    }
}
