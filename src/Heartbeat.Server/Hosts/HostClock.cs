namespace Heartbeat.Server.Hosts;

// A moment as liveness sees it: the wall-clock time (shown, stored, and what cron schedules and clients speak in) and
// the time elapsed on a monotonic clock (what deadlines are judged by, so that a step of the wall clock, an NTP
// correction or a resumed VM, neither downs everyone at once nor holds back a down).
internal readonly record struct Now(DateTimeOffset Wall, TimeSpan Mono)
{
    // A moment of a fleet, whose servers share no monotonic clock: there deadlines are wall-clock times.
    public static Now FromWall(DateTimeOffset wall) => new(wall, wall - DateTimeOffset.UnixEpoch);

    // The wall-clock time at which the monotonic clock will read mono, as far as can be told now.
    public DateTimeOffset WallAt(TimeSpan mono) => Wall + (mono - Mono);

    // The monotonic reading at the wall-clock time wall, as far as can be told now.
    public TimeSpan MonoAt(DateTimeOffset wall) => Mono + (wall - Wall);
}

// Reads Now from the server's TimeProvider: its wall clock, and its timestamps since start.
internal sealed class HostClock(TimeProvider time)
{
    private readonly long _start = time.GetTimestamp();

    public Now Read() => new(time.GetUtcNow(), time.GetElapsedTime(_start));
}
