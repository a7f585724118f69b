using Heartbeat.Server.Hosts;

namespace Heartbeat.Server.Tests;

/// <summary>The sweeper's queue of deadlines: hosts come out in deadline order, also after a storm emptied it.</summary>
public sealed class DeadlineQueueTests
{
    private readonly DeadlineQueue _queue = new();

    [Fact]
    public void AfterAStormOfDownsTheQueueStillHandsOutHostsInDeadlineOrder()
    {
        var hosts = Enumerable.Range(0, 10_000).Select(i => new TrackedHost(new HostRecord($"host-{i}"))).ToList();
        foreach (var (host, i) in hosts.Select((h, i) => (h, i)))
        {
            _queue.Schedule(host, TimeSpan.FromSeconds(10) + TimeSpan.FromMilliseconds(i));
        }

        Assert.Null(_queue.NextDue(TimeSpan.FromSeconds(5))); // a sweep with nothing due yet
        var swept = Drain(TimeSpan.FromSeconds(20)); // every host down at once; the queue's room goes back
        Assert.Equal(hosts, swept);

        _queue.Schedule(hosts[2], TimeSpan.FromSeconds(32));
        _queue.Schedule(hosts[1], TimeSpan.FromSeconds(31));
        Assert.Equal([hosts[1], hosts[2]], Drain(TimeSpan.FromSeconds(40)));
        Assert.Equal(TimeSpan.FromSeconds(32), hosts[2].ScheduledAt);
    }

    private List<TrackedHost> Drain(TimeSpan now)
    {
        var due = new List<TrackedHost>();
        while (_queue.NextDue(now) is var (host, _))
        {
            due.Add(host);
        }

        return due;
    }
}
