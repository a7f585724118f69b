namespace Heartbeat.Server.Hosts;

// When a silent host turns late and then down (README: "How Heartbeat decides a host is down").
// - Its expected interval comes from, in order: a cron schedule or an interval an admin configured, the interval the
// host declares (kept until it declares another), the interval learned from its beats, the server's default.
// - It is late once that interval has passed without a beat, and down once it has missed as many intervals as it may
// (1 unless configured or declared) plus a grace: half an interval (at least a second) unless configured. A beat every
// 60 s is late after 60 s and down after 90 s, so jitter or one slow beat never pages anyone.
// - Deadlines run on the monotonic clock from the host's last beat; only cron schedules read the wall clock, once per beat.
internal static class Liveness
{
    public static readonly TimeSpan MinimumInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaximumInterval = TimeSpan.FromDays(1);

    // A gap between sweeps this long, on the monotonic clock, means the server (or a whole fleet) stood still.
    public static readonly TimeSpan PauseThreshold = TimeSpan.FromSeconds(5);

    // How long past its schedule a job may run before it is down, unless configured: Healthchecks' default too.
    public static readonly TimeSpan ScheduleGrace = TimeSpan.FromHours(1);

    public static TimeSpan DefaultGrace(TimeSpan expected) => TimeSpan.FromTicks(Math.Max(expected.Ticks / 2, TimeSpan.TicksPerSecond));

    public static (TimeSpan Interval, IntervalSource Source) Expected(HostRecord host, HostsOptions options)
    {
        if (host.Cron is not null)
        {
            return (Occurrence(host, 1) - host.LastSeen, IntervalSource.Schedule);
        }

        return host.ConfiguredInterval is { } configured ? (configured, IntervalSource.Configured)
            : host.DeclaredInterval is { } declared ? (declared, IntervalSource.Declared)
            : host.LearnedInterval is { } learned ? (learned, IntervalSource.Learned)
            : (options.DefaultInterval, IntervalSource.Default);
    }

    public static TimeSpan Grace(HostRecord host, TimeSpan expected) =>
        host.ConfiguredGrace ?? (host.Cron is null ? DefaultGrace(expected) : ScheduleGrace);

    public static int Misses(HostRecord host, HostsOptions options) => host.ConfiguredMisses ?? host.DeclaredMisses ?? options.MissesBeforeDown;

    // The monotonic time at which the host, silent since its last beat, is late.
    public static TimeSpan LateAt(HostRecord host, HostsOptions options) => host.LastSeenMono + Expected(host, options).Interval + host.PauseCredit;

    // The monotonic time at which the host, silent since its last beat, is down.
    public static TimeSpan DownAt(HostRecord host, HostsOptions options)
    {
        var (expected, _) = Expected(host, options);
        var misses = Misses(host, options);
        var missed = host.Cron is null ? expected * misses : Occurrence(host, misses) - host.LastSeen;
        return host.LastSeenMono + missed + Grace(host, expected) + host.PauseCredit;
    }

    // When the host missed its first beat: an outage is dated from then, not from when it was judged down.
    public static DateTimeOffset FirstMissed(HostRecord host, HostsOptions options) => host.LastSeen + Expected(host, options).Interval + host.PauseCredit;

    // The nth time the host's schedule expects it after its last beat.
    private static DateTimeOffset Occurrence(HostRecord host, int n)
    {
        var at = host.LastSeen;
        for (var i = 0; i < n; i++)
        {
            // A schedule with no next time (say, 30 February) never expects the host again: the longest interval stands in.
            at = host.Cron!.GetNextOccurrence(at, host.Zone ?? TimeZoneInfo.Utc) ?? at + MaximumInterval;
        }

        return at;
    }
}
