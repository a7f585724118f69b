using Heartbeat.Server.Hosts;

namespace Heartbeat.Server.Tests;

/// <summary>The number of hosts the --max-hosts cap is checked against, kept beside the hosts themselves.</summary>
public sealed class HostMapTests
{
    private readonly HostMap _map = new();

    [Fact]
    public async Task HostsAddedFromManyThreadsAtOnceAreEachCountedOnce()
    {
        var ids = Enumerable.Range(0, 5_000).Select(i => $"host-{i}").ToArray();

        // Four threads add the same hosts, in turns that overlap.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            foreach (var id in ids.Skip(t * 100).Concat(ids.Take(t * 100)))
            {
                _map.GetOrAdd(id);
            }
        })));

        Assert.Equal(5_000, _map.Count);
        Assert.Equal(5_000, _map.All.Count());
        Assert.Same(_map.GetOrAdd("host-7"), _map.GetOrAdd("host-7"));
    }

    [Fact]
    public void ReplacingAHostKeepsTheCountAndRemovingItLowersItOnce()
    {
        var first = _map.GetOrAdd("nas");
        var restored = new TrackedHost(new HostRecord("nas"));
        _map.Put(restored);
        _map.Put(new TrackedHost(new HostRecord("pi")));

        Assert.Equal(2, _map.Count);
        Assert.True(_map.TryGet("nas", out var kept));
        Assert.Same(restored, kept);
        Assert.NotSame(first, kept);

        Assert.True(_map.TryRemove("nas", out _));
        Assert.False(_map.TryRemove("nas", out _));
        Assert.Equal(1, _map.Count);
        Assert.False(_map.Contains("nas"));
    }
}
