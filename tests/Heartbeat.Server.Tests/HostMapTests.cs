using Heartbeat.Server.Hosts;

namespace Heartbeat.Server.Tests;

/// <summary>Hosts by id, read without a lock while others are added and forgotten; and their number, which the
/// --max-hosts cap is checked against.</summary>
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

    [Fact]
    public async Task AHostIsFoundOnEveryLookupWhileOthersAreAddedAndForgottenAroundIt()
    {
        var steady = Enumerable.Range(0, 64).Select(i => _map.GetOrAdd($"steady-{i}")).ToArray();
        using var done = new CancellationTokenSource();

        // One thread grows the table from 64 hosts to 40,000 (a dozen resizes) and forgets every other one again.
        var writer = Task.Run(() =>
        {
            for (var i = 0; i < 40_000; i++)
            {
                _map.GetOrAdd($"new-{i}");
                if (i % 2 == 1)
                {
                    _map.TryRemove($"new-{i - 1}", out _);
                }
            }

            done.Cancel();
        }, TestContext.Current.CancellationToken);
        var misses = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            var missed = 0;
            while (!done.IsCancellationRequested)
            {
                foreach (var host in steady)
                {
                    missed += _map.TryGet(host.Record.Id, out var found) && ReferenceEquals(found, host) ? 0 : 1;
                }
            }

            return missed;
        }, TestContext.Current.CancellationToken)));
        await writer;

        Assert.Equal([0, 0], misses);
        Assert.Equal(64 + 20_000, _map.Count);
        Assert.Equal(64 + 20_000, _map.All.Count());
        Assert.False(_map.Contains("new-0"));
        Assert.True(_map.Contains("new-1"));
    }

    [Fact]
    public void HostsForgottenAndAddedOverAndOverLeaveOnlyTheLiveOnes()
    {
        for (var i = 0; i < 100_000; i++)
        {
            _map.GetOrAdd($"short-lived-{i}");
            Assert.True(_map.TryRemove($"short-lived-{i}", out _));
        }

        var kept = _map.GetOrAdd("kept");
        _map.GetOrAdd("short-lived-7");

        Assert.Equal(2, _map.Count);
        Assert.Equal(["kept", "short-lived-7"], _map.All.Select(h => h.Record.Id).Order());
        Assert.Same(kept, _map.GetOrAdd("kept"));
        Assert.False(_map.Contains("short-lived-8"));
    }

    [Fact]
    public void ForgettingHostsLosesNoneOfTheOthers()
    {
        var ids = Enumerable.Range(0, 10_000).Select(i => $"host-{i}").ToArray();
        foreach (var id in ids)
        {
            _map.GetOrAdd(id);
        }

        foreach (var id in ids.Where((_, i) => i % 3 == 0))
        {
            Assert.True(_map.TryRemove(id, out _));
        }

        Assert.Equal(ids.Where((_, i) => i % 3 != 0), ids.Where(_map.Contains));
    }

    [Fact]
    public void ARestoreHoldsEveryHostOfTheStoreAndAnotherReplacesThemById()
    {
        _map.Restore([.. Enumerable.Range(0, 10_000).Select(i => new TrackedHost(new HostRecord($"restored-{i}")))]);
        var again = new TrackedHost(new HostRecord("restored-7"));
        _map.Restore([again, new TrackedHost(new HostRecord("new"))]);

        Assert.Equal(10_001, _map.Count);
        Assert.All(Enumerable.Range(0, 10_000), i => Assert.True(_map.Contains($"restored-{i}")));
        Assert.True(_map.TryGet("restored-7", out var kept));
        Assert.Same(again, kept);
        Assert.Same(_map.GetOrAdd("new"), _map.GetOrAdd("new"));
    }
}
