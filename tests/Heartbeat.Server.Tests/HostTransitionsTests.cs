using Heartbeat.Server.Hosts;
using Heartbeat.Server.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Heartbeat.Server.Tests;

/// <summary>The host state machine on its own: beats, silences and windows applied to one host, no server around it.</summary>
public sealed class HostTransitionsTests
{
    private static readonly DateTimeOffset Start = new(2026, 2, 8, 11, 30, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);
    private readonly HostClock _clock;
    private readonly HostTransitions _transitions = new(new HostsOptions(), new EventLines(TimeZoneInfo.Utc));
    private readonly HostRecord _host = new("web1");

    public HostTransitionsTests() => _clock = new HostClock(_time);

    [Fact]
    public void AFirstBeatMakesANewHostThatIsUp()
    {
        var events = Beat(new ReceivedHeartbeat(Ip: "10.0.0.5", Host: "web1", Interval: TimeSpan.FromSeconds(30)));

        Assert.Equal(HostState.Up, _host.State);
        Assert.Equal((Start, Start, 1L), (_host.FirstSeen, _host.LastSeen, _host.Beats));
        var e = Assert.Single(events);
        Assert.Equal((HostEventKind.New, "New host - web1 (IP 10.0.0.5, expected every 30s)"), (e.Kind, e.Summary));
        Assert.Equal(0, e.Id); // numbered when published, not here
    }

    [Fact]
    public void AFailingFirstBeatIsNewAndThenFailing()
    {
        var events = Beat(new ReceivedHeartbeat(Host: "web1", Status: HeartbeatStatus.Fail, Message: "disk full"));

        Assert.Equal(HostState.Failing, _host.State);
        Assert.Equal([HostEventKind.New, HostEventKind.Failing], events.Select(e => e.Kind));
        Assert.Equal("Host failing - web1 (disk full)", events[1].Summary);
    }

    [Fact]
    public void ASilentHostIsLateAfterItsIntervalAndDownAfterTheGrace()
    {
        Beat(new ReceivedHeartbeat(Host: "web1", Interval: TimeSpan.FromSeconds(60)));
        Assert.Equal(TimeSpan.FromSeconds(60), _transitions.Deadline(_host)); // on the monotonic clock, from the first beat

        Assert.Empty(SweepAfter(TimeSpan.FromSeconds(59)));
        Assert.Equal(HostState.Up, _host.State);

        Assert.Empty(SweepAfter(TimeSpan.FromSeconds(1)));
        Assert.Equal(HostState.Late, _host.State);
        Assert.Equal(TimeSpan.FromSeconds(90), _transitions.Deadline(_host));

        var down = Assert.Single(SweepAfter(TimeSpan.FromSeconds(30)));
        Assert.Equal(HostState.Down, _host.State);
        Assert.Equal((HostEventKind.Down, "Host down - web1 (last seen 2026-02-08 11:30:00, expected every 60s)"), (down.Kind, down.Summary));
        Assert.True(down.Alerts);
    }

    [Fact]
    public void ABeatAfterADownIsARecoveryThatSaysHowLongItWasDown()
    {
        Beat(new ReceivedHeartbeat(Host: "web1", Interval: TimeSpan.FromSeconds(10)));
        SweepAfter(TimeSpan.FromSeconds(10));
        SweepAfter(TimeSpan.FromSeconds(5));
        Assert.Equal(HostState.Down, _host.State);

        _time.Advance(TimeSpan.FromMinutes(2));
        var recovered = Assert.Single(Beat(new ReceivedHeartbeat(Host: "web1", Interval: TimeSpan.FromSeconds(10))));

        Assert.Equal(HostState.Up, _host.State);
        Assert.Equal((HostEventKind.Recovered, "Host recovered - web1 (down for 2m 5s)"), (recovered.Kind, recovered.Summary)); // since its first missed beat
        Assert.Equal(Start + TimeSpan.FromSeconds(10), _host.StateSince - TimeSpan.FromMinutes(2) - TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void ANewAddressIsAnIpChangeWithItsHistory()
    {
        Beat(new ReceivedHeartbeat(Ip: "203.0.113.1", Host: "web1"), peer: "198.51.100.1");
        _time.Advance(TimeSpan.FromSeconds(30));
        var outcome = new HostOutcome();
        _transitions.Beat(_host, new ReceivedHeartbeat(Ip: "203.0.113.2", Host: "web1"), "198.51.100.1", _clock.Read(), outcome);

        var changed = Assert.Single(outcome.Events);
        Assert.Equal((HostEventKind.IpChanged, "203.0.113.1", "Host IP changed - web1 (203.0.113.1 -> 203.0.113.2)"), (changed.Kind, changed.PreviousIp, changed.Summary));
        Assert.Equal(1, _host.IpChanges);
        var address = Assert.Single(outcome.AddressChanges);
        Assert.Equal((AddressKind.Reported, "203.0.113.1", "203.0.113.2"), (address.Kind, address.Previous, address.Current));
    }

    [Fact]
    public void AHostReportingTheAddressItBeatsFromKeepsThatAddressOnce()
    {
        var peer = string.Concat("192.168.1.", "53"); // not the literal: a string of its own, as a request's would be
        Beat(new ReceivedHeartbeat(Ip: "192.168.1.53", Host: "nas"), peer);

        Assert.Equal("192.168.1.53", _host.Ip);
        Assert.Same(peer, _host.ReportedIp);
        Assert.Same(peer, _host.Peer);
    }

    [Fact]
    public void AHostSilentInItsMaintenanceWindowIsDownOnlyWhenTheWindowEnds()
    {
        var started = Beat(new ReceivedHeartbeat(Host: "web1", Interval: TimeSpan.FromSeconds(10)) { Maintenance = TimeSpan.FromMinutes(1) });
        Assert.Equal("Maintenance - web1 (alerts paused for 60s, until 2026-02-08 11:31:00)", started.Single(e => e.Kind == HostEventKind.Maintenance).Summary);
        _time.Advance(TimeSpan.FromSeconds(5));
        var failing = Assert.Single(Beat(new ReceivedHeartbeat(Host: "web1", Interval: TimeSpan.FromSeconds(10), Status: HeartbeatStatus.Fail)));
        Assert.True(failing.Silenced); // shown and logged, but alerts nobody

        Assert.Empty(SweepAfter(TimeSpan.FromSeconds(20)));
        Assert.Equal(HostState.Maintenance, _host.State);
        Assert.Equal(TimeSpan.FromMinutes(1), _transitions.Deadline(_host));

        var down = Assert.Single(SweepAfter(TimeSpan.FromSeconds(35)));
        Assert.Equal("Host down - web1 (last seen 2026-02-08 11:30:05, expected every 10s, not back when its maintenance ended)", down.Summary);
        Assert.False(down.Silenced);
    }

    [Fact]
    public void MoreMissesAllowedMeansDownLater()
    {
        Beat(new ReceivedHeartbeat(Host: "web1", Interval: TimeSpan.FromSeconds(10), MissesBeforeDown: 3));

        Assert.Empty(SweepAfter(TimeSpan.FromSeconds(34)));
        Assert.Equal(HostState.Late, _host.State);
        var down = Assert.Single(SweepAfter(TimeSpan.FromSeconds(1)));
        Assert.Equal("Host down - web1 (last seen 2026-02-08 11:30:00, expected every 10s, 3 beats missed)", down.Summary);
    }

    [Fact]
    public void ANewBootIsARebootAndTheOldOneBackIsADuplicateSaidOnceADay()
    {
        Beat(new ReceivedHeartbeat(Host: "web1") { BootId = "aaaaaaaa-1" });
        Assert.Equal("Host rebooted - web1 (boot aaaaaaaa -> bbbbbbbb)", Assert.Single(Beat(new ReceivedHeartbeat(Host: "web1") { BootId = "bbbbbbbb-2" })).Summary);

        Assert.Equal(HostEventKind.DuplicateIdentity, Assert.Single(Beat(new ReceivedHeartbeat(Host: "web1") { BootId = "aaaaaaaa-1" })).Kind);
        Assert.Empty(Beat(new ReceivedHeartbeat(Host: "web1") { BootId = "bbbbbbbb-2" }));

        _time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(HostEventKind.DuplicateIdentity, Assert.Single(Beat(new ReceivedHeartbeat(Host: "web1") { BootId = "aaaaaaaa-1" })).Kind);
    }

    [Fact]
    public void AClockFarOffIsToldOnceUntilItIsRight()
    {
        var behind = Beat(new ReceivedHeartbeat(Host: "web1") { ClientTime = Start - TimeSpan.FromSeconds(125) });
        Assert.Equal("Clock skew - web1 (its clock is 2m 5s behind the server's)", behind.Single(e => e.Kind == HostEventKind.ClockSkew).Summary);
        Assert.Empty(Beat(new ReceivedHeartbeat(Host: "web1") { ClientTime = _time.GetUtcNow() - TimeSpan.FromSeconds(125) }));
        Assert.Empty(Beat(new ReceivedHeartbeat(Host: "web1") { ClientTime = _time.GetUtcNow() }));
        Assert.False(_host.ClockOff(_transitions.Options.ClockSkewWarning));
    }

    [Fact]
    public void AJobsNextBeatAfterItsStartRecordsHowLongItRan()
    {
        Beat(new ReceivedHeartbeat(Host: "web1"));
        HostTransitions.Start(_host, body: null, _clock.Read());
        _time.Advance(TimeSpan.FromSeconds(42));
        Beat(new ReceivedHeartbeat(Host: "web1"));

        Assert.Equal((TimeSpan.FromSeconds(42), null), (_host.LastRunTime, _host.StartedAt));
    }

    [Fact]
    public void ABeatOlderThanTheLastOneOnlyCounts()
    {
        Beat(new ReceivedHeartbeat(Ip: "10.0.0.1", Host: "web1"));

        Assert.True(HostTransitions.CountIfOutrun(_host, Start - TimeSpan.FromSeconds(1)));
        Assert.False(HostTransitions.CountIfOutrun(_host, Start + TimeSpan.FromSeconds(1)));
        Assert.Equal((2L, Start), (_host.Beats, _host.LastSeen));
    }

    [Fact]
    public void AfterARestartNobodyIsJudgedBeforeAFullIntervalFromThen()
    {
        Beat(new ReceivedHeartbeat(Host: "web1", Interval: TimeSpan.FromSeconds(10)));
        _host.NotBefore = TimeSpan.FromMinutes(5); // the server was away for five minutes

        Assert.Equal(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(15), _transitions.Deadline(_host));
    }

    private List<HostEvent> Beat(ReceivedHeartbeat beat, string peer = "10.0.0.9")
    {
        var outcome = new HostOutcome();
        _transitions.Beat(_host, beat, peer, _clock.Read(), outcome);
        return outcome.Events;
    }

    private List<HostEvent> SweepAfter(TimeSpan wait)
    {
        _time.Advance(wait);
        var outcome = new HostOutcome();
        _transitions.Sweep(_host, _clock.Read(), outcome);
        return outcome.Events;
    }
}
