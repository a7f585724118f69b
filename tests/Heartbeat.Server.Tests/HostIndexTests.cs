using System.Runtime.CompilerServices;
using Heartbeat.Server.Hosts;
using Microsoft.Extensions.Time.Testing;

namespace Heartbeat.Server.Tests;

/// <summary>The order the page and the API list hosts in, and the counts beside it, kept as states change.</summary>
public sealed class HostIndexTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly HostIndex _index;

    public HostIndexTests() => _index = new HostIndex(new HostClock(_time));

    [Fact]
    public void HostsAreListedTroubleFirstThenByOrdinalIdWithACountPerState()
    {
        var hosts = new[]
        {
            Host("web", HostState.Up), Host("Web", HostState.Up), Host("db", HostState.Down), Host("cron", HostState.Failing),
            Host("new", HostState.Pending), Host("nas", HostState.Maintenance), Host("pi", HostState.Late), Host("cam", HostState.Down),
        };
        foreach (var host in hosts)
        {
            _index.Update(host);
        }

        Assert.Equal(["cam", "db", "cron", "nas", "pi", "new", "Web", "web"], Ids(_index.Current));
        Assert.Equal(2, _index.Current.Counts[(int)HostState.Down]);
        Assert.Equal(2, _index.Current.Counts[(int)HostState.Up]);
        Assert.Equal((2, 3), _index.Current.RangeOf(HostState.Failing));
        Assert.Equal((5, 6), _index.Current.RangeOf(HostState.Pending));
    }

    [Fact]
    public void AStateChangeMovesTheHostAndItsCountAndNothingElsePublishesANewListing()
    {
        var web = Host("web", HostState.Up);
        var db = Host("db", HostState.Up);
        _index.Update(web);
        _index.Update(db);
        var before = _index.Current;

        _index.Update(web); // a beat that changed nothing
        Assert.Same(before, _index.Current);

        web.Record.State = HostState.Down;
        _index.Update(web);
        Assert.Equal(["web", "db"], Ids(_index.Current));
        Assert.Equal((1, 1), (_index.Current.Counts[(int)HostState.Down], _index.Current.Counts[(int)HostState.Up]));

        _index.Remove(db);
        Assert.Equal(["web"], Ids(_index.Current));
        Assert.Equal(0, _index.Current.Counts[(int)HostState.Up]);
        Assert.Equal(["db", "web"], Ids(before)); // a listing once taken never changes
    }

    [Fact]
    public void APinnedListingIsResumedAndAnUnknownVersionResumesTheCurrentOne()
    {
        var web = Host("web", HostState.Up);
        _index.Update(web);
        var first = _index.Current;
        _index.Pin(first);

        web.Record.State = HostState.Late;
        _index.Update(web);

        Assert.Same(first, _index.Resume(first.Version));
        Assert.Same(_index.Current, _index.Resume(_index.Current.Version + 100));
    }

    [Fact]
    public void APinnedListingIsKeptAMinuteAfterItsLastPage()
    {
        var web = Host("web", HostState.Up);
        _index.Update(web);
        var walked = _index.Current;
        _index.Pin(walked);
        web.Record.State = HostState.Down;
        _index.Update(web);

        _time.Advance(TimeSpan.FromSeconds(50));
        _index.Pin(walked); // the walk's next page
        _time.Advance(TimeSpan.FromSeconds(50));
        Assert.Same(walked, _index.Resume(walked.Version));

        _time.Advance(TimeSpan.FromSeconds(11));
        Assert.Same(_index.Current, _index.Resume(walked.Version));
    }

    [Fact]
    public void ASweepLetsGoOfAListingPastItsMinuteWithNoPageAskedFor()
    {
        var walked = PinAListingAndChangeIt(Host("web", HostState.Up));

        _time.Advance(TimeSpan.FromSeconds(59));
        _index.UnpinExpired();
        GC.Collect();
        Assert.True(walked.IsAlive);

        _time.Advance(TimeSpan.FromSeconds(2));
        _index.UnpinExpired();
        GC.Collect();

        Assert.False(walked.IsAlive);
    }

    [Fact]
    public void ARestoreListsEveryHostAtOnceInTheSameOrder()
    {
        var hosts = Enumerable.Range(0, 1000).Select(i => Host($"h{i:D4}", i % 10 == 0 ? HostState.Down : HostState.Up)).ToList();

        _index.UpdateAll(hosts);

        var ids = Ids(_index.Current);
        Assert.Equal(hosts.Where(h => h.Record.State == HostState.Down).Select(h => h.Record.Id), ids.Take(100));
        Assert.Equal(hosts.Where(h => h.Record.State == HostState.Up).Select(h => h.Record.Id), ids.Skip(100));
        Assert.Equal(100, _index.Current.Counts[(int)HostState.Down]);
    }

    [Fact]
    public void HostsGivenOutOfOrderAndLaterChangedInBulkAreListedInOrderOnce()
    {
        var hosts = Enumerable.Range(0, 1000).Reverse().Select(i => Host($"h{i:D4}", HostState.Up)).ToList();
        _index.UpdateAll(hosts);
        foreach (var host in hosts.Where((_, i) => i % 3 == 0))
        {
            host.Record.State = HostState.Down;
        }

        _index.UpdateAll(hosts);

        var ids = Ids(_index.Current);
        var down = hosts.Where(h => h.Record.State == HostState.Down).Select(h => h.Record.Id).Order(StringComparer.Ordinal);
        var up = hosts.Where(h => h.Record.State == HostState.Up).Select(h => h.Record.Id).Order(StringComparer.Ordinal);
        Assert.Equal(down.Concat(up), ids);
        Assert.Equal(334, _index.Current.Counts[(int)HostState.Down]);
    }

    // Only a weak reference leaves this frame, so nothing but the index can keep the listing.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private WeakReference PinAListingAndChangeIt(TrackedHost host)
    {
        _index.Update(host);
        var listing = _index.Current;
        _index.Pin(listing);
        host.Record.State = HostState.Down;
        _index.Update(host);
        return new WeakReference(listing);
    }

    private static TrackedHost Host(string id, HostState state) => new(new HostRecord(id) { State = state });

    private static List<string> Ids(HostListing listing) => [.. listing.Hosts.Select(h => h.Id!)];
}
