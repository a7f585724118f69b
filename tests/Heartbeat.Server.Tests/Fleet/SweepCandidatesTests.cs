using Heartbeat.Server.Diagnostics;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Logging;
using Heartbeat.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Heartbeat.Server.Tests.Fleet;

/// <summary>
/// A fleet server's sweep asks its copy of the fleet which hosts may be due; the store's rows then say which still are.
/// The copy walks its hosts only once one may be due, and must never miss one taken in since its last walk.
/// </summary>
public sealed class SweepCandidatesTests : IAsyncDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 2, 8, 11, 30, 0, TimeSpan.Zero);

    private readonly string _logPath = Path.Combine(Path.GetTempPath(), $"hb-candidates-{Guid.NewGuid():N}.log");
    private readonly HeartbeatLog _log;
    private readonly HostRegistry _registry;

    public SweepCandidatesTests()
    {
        var time = new FakeTimeProvider(Start);
        var metrics = new ServerMetrics();
        var clock = new HostClock(time);
        var transitions = new HostTransitions(new HostsOptions(), new EventLines(TimeZoneInfo.Utc));
        var changes = new ChangeQueue(transitions, clock);
        _log = new HeartbeatLog(new HeartbeatLogOptions { Path = _logPath }, time, metrics, NullLogger<HeartbeatLog>.Instance);
        var bodies = new PingBodies(new HostsOptions(), metrics, NullLogger<PingBodies>.Instance);
        _registry = new HostRegistry(clock, transitions, changes, new HostEventSink(new HostEventFeed(), changes, _log, metrics), bodies);
    }

    [Fact]
    public void TheHostsWhoseCopyIsDueAreTheCandidatesAndThoseDownAreNot()
    {
        _registry.Mirror([Copy("late", Start.AddSeconds(-5)), Copy("fine", Start.AddSeconds(30)), Copy("down", due: null)], []);

        Assert.Equal(["late"], _registry.DueBy(Start, most: 10));
        Assert.Equal(["fine", "late"], _registry.DueBy(Start.AddSeconds(31), most: 10).Order());
    }

    [Fact]
    public void AHostTakenInAfterAWalkThatFoundNoneDueIsACandidateOnceDue()
    {
        _registry.Mirror([Copy("fine", Start.AddSeconds(60))], []);
        Assert.Empty(_registry.DueBy(Start, most: 10));

        // Due before the earliest deadline the walk saw: the next sweep must not skip the walk.
        _registry.Mirror([Copy("late", Start.AddSeconds(-1))], []);

        Assert.Equal(["late"], _registry.DueBy(Start, most: 10));
    }

    [Fact]
    public void AtMostTheGivenNumberAreCandidatesAndTheRestComeAtTheNextSweep()
    {
        _registry.Mirror([.. Enumerable.Range(0, 5).Select(i => Copy($"late{i}", Start.AddSeconds(-i - 1)))], []);

        var first = _registry.DueBy(Start, most: 2);
        _registry.Mirror([.. first.Select(id => Copy(id, due: null))], []); // those two swept down
        var rest = _registry.DueBy(Start, most: 10);

        Assert.Equal(2, first.Count);
        Assert.Equal(3, rest.Count);
        Assert.Empty(rest.Intersect(first));
    }

    public async ValueTask DisposeAsync()
    {
        await _log.DisposeAsync();
        File.Delete(_logPath);
    }

    private static HostRecord Copy(string id, DateTimeOffset? due) => StoredHosts.Seen(id, Start, due);
}
