namespace Heartbeat.Server.Hosts;

/// <summary>
/// A moment as liveness sees it: the wall-clock time (shown, stored, and what cron schedules and clients speak in) and
/// the time elapsed on a monotonic clock (what deadlines are judged by, so that a step of the wall clock, an NTP
/// correction or a resumed VM, neither downs everyone at once nor holds back a down).
/// </summary>
internal readonly record struct Now(DateTimeOffset Wall, TimeSpan Mono)
{
    /// <summary>A moment of a fleet, whose servers share no monotonic clock: there deadlines are wall-clock times.</summary>
    public static Now FromWall(DateTimeOffset wall) => new(wall, wall - DateTimeOffset.UnixEpoch);

    /// <summary>The wall-clock time at which the monotonic clock will read <paramref name="mono"/>, as far as can be told now.</summary>
    public DateTimeOffset WallAt(TimeSpan mono) => Wall + (mono - Mono);

    /// <summary>The monotonic reading at the wall-clock time <paramref name="wall"/>, as far as can be told now.</summary>
    public TimeSpan MonoAt(DateTimeOffset wall) => Mono + (wall - Wall);
}

/// <summary>Reads <see cref="Now"/> from the server's <see cref="TimeProvider"/>: its wall clock, and its timestamps since start.</summary>
internal sealed class HostClock(TimeProvider time)
{
    private readonly long _start = time.GetTimestamp();

    public Now Read() => new(time.GetUtcNow(), time.GetElapsedTime(_start));
}
