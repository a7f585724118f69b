using Heartbeat.Server.Hosts;

namespace Heartbeat.Server.Tests;

/// <summary>What a flush stores of hosts whose address moved several times since the last one: a row per host, not per beat.</summary>
public sealed class FlushCoalescingTests
{
    private static readonly DateTimeOffset Start = new(2026, 2, 8, 11, 30, 0, TimeSpan.Zero);

    [Fact]
    public void AHostsIpChangesBetweenTwoFlushesAreStoredAsItsLastFromItsFirstPreviousIp()
    {
        var kept = FlushCoalescing.Events([Moved(1, "vps", "10.0.0.1", "10.0.0.2"), Moved(2, "vps", "10.0.0.2", "10.0.0.3"), Moved(3, "vps", "10.0.0.3", "10.0.0.4")]);

        var e = Assert.Single(kept);
        Assert.Equal((3L, "10.0.0.1", "10.0.0.4", 3), (e.Id, e.PreviousIp, e.Ip, e.Changes));
        Assert.Equal(Start.AddSeconds(3), e.At);
        Assert.Equal("Host IP changed - vps (10.0.0.1 -> 10.0.0.4, 3 changes)", e.Summary);
    }

    [Fact]
    public void AnotherEventOfTheHostEndsTheRunAndOtherHostsKeepTheirPlaces()
    {
        var down = Moved(4, "vps", "10.0.0.3", "10.0.0.3") with { Kind = HostEventKind.Down, PreviousIp = null, Summary = "Host down - vps" };
        var kept = FlushCoalescing.Events(
        [
            Moved(1, "vps", "10.0.0.1", "10.0.0.2"), Moved(2, "nas", "10.0.1.1", "10.0.1.2"), Moved(3, "vps", "10.0.0.2", "10.0.0.3"),
            down, Moved(5, "vps", "10.0.0.3", "10.0.0.5"), Moved(6, "nas", "10.0.1.2", "10.0.1.3"),
        ]);

        Assert.Equal(
            [(3L, "vps", HostEventKind.IpChanged, 2), (4L, "vps", HostEventKind.Down, 1), (5L, "vps", HostEventKind.IpChanged, 1), (6L, "nas", HostEventKind.IpChanged, 2)],
            kept.Select(e => (e.Id, e.HostId, e.Kind, e.Changes)));
        Assert.Equal(["10.0.0.1", null, "10.0.0.3", "10.0.1.1"], kept.Select(e => e.PreviousIp));
        Assert.Equal("Host IP changed - vps (10.0.0.3 -> 10.0.0.5)", kept[2].Summary); // a lone change reads as it was logged
    }

    [Fact]
    public void AChangeInAMaintenanceWindowIsNotFoldedIntoOneThatAlerts()
    {
        var kept = FlushCoalescing.Events([Moved(1, "vps", "10.0.0.1", "10.0.0.2") with { Silenced = true }, Moved(2, "vps", "10.0.0.2", "10.0.0.3")]);

        Assert.Equal([(true, 1), (false, 1)], kept.Select(e => (e.Silenced, e.Changes)));
    }

    [Fact]
    public void EachHostsAddressesOfEachKindAreStoredAsOneChangeFromFirstToLast()
    {
        var kept = FlushCoalescing.AddressChanges(
        [
            Address(1, "vps", AddressKind.Reported, "10.0.0.1", "10.0.0.2"), Address(2, "vps", AddressKind.Peer, "192.0.2.1", "192.0.2.2"),
            Address(3, "nas", AddressKind.Reported, null, "10.0.1.1"), Address(4, "vps", AddressKind.Reported, "10.0.0.2", "10.0.0.1"),
        ]);

        Assert.Equal(
            [
                (Start.AddSeconds(2), "vps", AddressKind.Peer, "192.0.2.1", "192.0.2.2", 1),
                (Start.AddSeconds(3), "nas", AddressKind.Reported, null, "10.0.1.1", 1),
                (Start.AddSeconds(4), "vps", AddressKind.Reported, "10.0.0.1", "10.0.0.1", 2), // back where it started, twice moved
            ],
            kept.Select(c => (c.At, c.HostId, c.Kind, c.Previous, c.Current, c.Changes)));
    }

    [Fact]
    public void WhatOneFlushTookIsNotFoldedIntoTheNext()
    {
        var folded = new FoldedEvents();
        folded.Add(Moved(1, "vps", "10.0.0.1", "10.0.0.2"));
        folded.Add(Moved(2, "vps", "10.0.0.2", "10.0.0.3"));
        var first = folded.Take();
        folded.Add(Moved(3, "vps", "10.0.0.3", "10.0.0.4"));

        Assert.Equal((2L, "10.0.0.1", 2), (Assert.Single(first).Id, first[0].PreviousIp, first[0].Changes));
        var second = Assert.Single(folded.Take());
        Assert.Equal((3L, "10.0.0.3", 1, "Host IP changed - vps (10.0.0.3 -> 10.0.0.4)"), (second.Id, second.PreviousIp, second.Changes, second.Summary));
        Assert.Empty(folded.Take());
    }

    private static HostEvent Moved(long id, string host, string from, string to) =>
        new(Start.AddSeconds(id), host, HostEventKind.IpChanged, HostState.Up, to, from, Start.AddSeconds(id), TimeSpan.FromSeconds(60), $"Host IP changed - {host} ({from} -> {to})")
        { Id = id };

    private static AddressChange Address(int second, string host, AddressKind kind, string? from, string? to) => new(Start.AddSeconds(second), host, kind, from, to);
}
