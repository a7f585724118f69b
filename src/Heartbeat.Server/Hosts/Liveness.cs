namespace Heartbeat.Server.Hosts;

/// <summary>
/// When a silent host turns late and then down. A host is late once its expected interval has passed
/// without a beat, and down once a grace of half that interval (at least a second) has passed as well:
/// a beat every 60 s is late after 60 s and down after 90 s, so jitter or one slow beat never pages anyone.
/// A host (or the server, for all) may ask to be forgiven more missed intervals: with 3, down comes after
/// 3 intervals plus the grace.
/// </summary>
internal static class Liveness
{
    public static readonly TimeSpan MinimumInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaximumInterval = TimeSpan.FromDays(1);

    /// <summary>A gap between sweeps this long, on the monotonic clock, means the server (or a whole fleet) stood still.</summary>
    public static readonly TimeSpan PauseThreshold = TimeSpan.FromSeconds(5);

    public static TimeSpan Grace(TimeSpan expected) => TimeSpan.FromTicks(Math.Max(expected.Ticks / 2, TimeSpan.TicksPerSecond));

    public static DateTimeOffset LateAt(DateTimeOffset lastSeen, TimeSpan expected) => lastSeen + expected;

    public static DateTimeOffset DownAt(DateTimeOffset lastSeen, TimeSpan expected, int misses = 1) => lastSeen + (expected * misses) + Grace(expected);
}
