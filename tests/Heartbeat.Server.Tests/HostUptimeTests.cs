using Heartbeat.Server.Hosts;
using Heartbeat.Server.Web;

namespace Heartbeat.Server.Tests;

/// <summary>Uptime and the interval strip, from a fixed state history: what the host page and the API's `uptime` show.</summary>
public sealed class HostUptimeTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    [Fact]
    public void AnOutageCountsFromTheFirstMissedBeatNotFromWhenDownWasDecided()
    {
        // Beats every hour until 18:00; the 19:00 beat never comes; down is decided at 19:30, after the grace; back at 22:00.
        var history = StateHistory.Of(
            [Event(T0, HostEventKind.New, HostState.Up), Event(T0 + (19.5 * Hour), HostEventKind.Down, HostState.Down, lastSeen: T0 + (18 * Hour)), Event(T0 + (22 * Hour), HostEventKind.Recovered, HostState.Up)],
            HostState.Up,
            T0 + (22 * Hour));

        var day = HostUptime.Over(history, T0 + (24 * Hour), TimeSpan.FromDays(1));

        Assert.Equal(21.0 / 24, day.Share!.Value, 4);
        Assert.Equal(TimeSpan.FromDays(1), day.Counted);
    }

    [Fact]
    public void TimeBeforeTheHostWasFirstSeenCountsNeitherWay()
    {
        var history = StateHistory.Of(
            [Event(T0, HostEventKind.New, HostState.Up), Event(T0 + (9 * Hour), HostEventKind.Failing, HostState.Failing), Event(T0 + (10 * Hour), HostEventKind.Recovered, HostState.Up)],
            HostState.Up,
            T0 + (10 * Hour));
        var now = T0 + (12 * Hour);

        var view = UptimeView.Of(history, now);

        Assert.Equal(Math.Round(11.0 / 12, 4), view.Day);
        Assert.Equal(view.Day, view.Week);
        Assert.Equal(view.Day, view.Month);
        Assert.Equal(12 * Hour, HostUptime.Over(history, now, TimeSpan.FromDays(30)).Counted);
    }

    [Fact]
    public void WithPrunedHistoryOnlyTheTimeFromTheOldestStoredEventCounts()
    {
        // The store kept only the newest events: the first it has is a recovery, the outage before it is gone.
        var history = StateHistory.Of([Event(T0, HostEventKind.Recovered, HostState.Up)], HostState.Up, T0);

        var week = HostUptime.Over(history, T0 + TimeSpan.FromDays(2), TimeSpan.FromDays(7));

        Assert.Equal(1.0, week.Share);
        Assert.Equal(TimeSpan.FromDays(2), week.Counted);
        Assert.Equal(T0, history.KnownFrom);
    }

    [Fact]
    public void MaintenanceAndPendingCountNeitherAsUpNorAsDown()
    {
        var history = new StateHistory([new(T0, HostState.Pending), new(T0 + (6 * Hour), HostState.Up), new(T0 + (12 * Hour), HostState.Maintenance), new(T0 + (18 * Hour), HostState.Down)]);

        var day = HostUptime.Over(history, T0 + (24 * Hour), TimeSpan.FromDays(1));

        Assert.Equal(0.5, day.Share);
        Assert.Equal(12 * Hour, day.Counted);
    }

    [Fact]
    public void AnOutageOlderThanTheWindowDoesNotCountInIt()
    {
        var history = StateHistory.Of(
            [Event(T0 - TimeSpan.FromDays(40), HostEventKind.New, HostState.Up), Event(T0 - TimeSpan.FromDays(20), HostEventKind.Down, HostState.Down, lastSeen: T0 - TimeSpan.FromDays(21) - Hour), Event(T0 - TimeSpan.FromDays(19), HostEventKind.Recovered, HostState.Up)],
            HostState.Up,
            T0 - TimeSpan.FromDays(19));

        var view = UptimeView.Of(history, T0);

        Assert.Equal(1.0, view.Day);
        Assert.Equal(1.0, view.Week);
        Assert.Equal(Math.Round(28.0 / 30, 4), view.Month); // down from its first missed beat, 21 days ago, to 19 days ago
    }

    [Fact]
    public void AHostNotSeenYetHasNoUptime()
    {
        var history = StateHistory.Of([], HostState.Pending, T0);

        Assert.Null(UptimeView.Of(history, T0 + Hour).Day);
        Assert.Null(HostUptime.Over(StateHistory.Of([], HostState.Up, T0), T0, TimeSpan.FromDays(1)).Share);
    }

    [Fact]
    public void TheStripColoursEachIntervalByTheWorstStateInIt()
    {
        // Up, failing for part of the 2nd hour, down through the 3rd, up again, and late now (which raises no event).
        var history = StateHistory.Of(
            [
                Event(T0, HostEventKind.New, HostState.Up),
                Event(T0 + (1.5 * Hour), HostEventKind.Failing, HostState.Failing),
                Event(T0 + (1.75 * Hour), HostEventKind.Recovered, HostState.Up),
                Event(T0 + (2.5 * Hour), HostEventKind.Down, HostState.Down, lastSeen: T0 + (1.9 * Hour), interval: 0.1 * Hour),
                Event(T0 + (3.5 * Hour), HostEventKind.Recovered, HostState.Up),
            ],
            HostState.Late,
            T0 + (5.5 * Hour));

        var strip = HostUptime.Strip(history, T0 + (6 * Hour), Hour, 7);

        Assert.Equal(["unknown", "on-time", "failed", "missed", "missed", "on-time", "late"], strip.Select(s => s.Outcome));
        Assert.Equal(T0 - Hour, strip[0].From);
        Assert.Equal(T0 + (6 * Hour), strip[^1].To);
    }

    private static HostEvent Event(DateTimeOffset at, HostEventKind kind, HostState state, DateTimeOffset? lastSeen = null, TimeSpan? interval = null) =>
        new(at, "web1", kind, state, "10.0.0.1", null, lastSeen ?? at, interval ?? Hour, kind.ToString());
}
