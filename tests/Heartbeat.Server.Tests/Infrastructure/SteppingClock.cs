using Microsoft.Extensions.Time.Testing;

namespace Heartbeat.Server.Tests.Infrastructure;

/// <summary>A clock whose wall time can jump while its monotonic timestamps run on, as a real machine's do.</summary>
public sealed class SteppingClock(FakeTimeProvider inner) : TimeProvider
{
    private TimeSpan _offset;

    public override TimeZoneInfo LocalTimeZone => inner.LocalTimeZone;

    public override long TimestampFrequency => inner.TimestampFrequency;

    public void Step(TimeSpan by) => _offset += by;

    public override DateTimeOffset GetUtcNow() => inner.GetUtcNow() + _offset;

    public override long GetTimestamp() => inner.GetTimestamp();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        inner.CreateTimer(callback, state, dueTime, period);
}
