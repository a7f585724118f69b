using System.Text.Json.Serialization;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Storage;

namespace Heartbeat.Server.Web;

// Since when a host was in a state: one step of its state history.
internal readonly record struct StateChange(DateTimeOffset At, HostState State);

// A host's state over time, as far as the server knows it: from its stored events (every event carries the state the
// host was in after it) and its state now. Before the first change nothing is known: the host was not seen yet, or its
// older events were pruned (the store keeps the newest IHostStore.HistoryPerHost per host).
internal sealed record StateHistory(IReadOnlyList<StateChange> Changes)
{
    public DateTimeOffset? KnownFrom => Changes.Count == 0 ? null : Changes[0].At;

    // Not flushed first: the host's state now stands in for what the store has not been given yet.
    public static async Task<StateHistory> ReadAsync(IHostStore store, HostRecord host, CancellationToken cancellationToken) =>
        Of(await store.ReadHostEventsAsync(host.Id, IHostStore.HistoryPerHost, cancellationToken), host.State, host.StateSince);

    // Events oldest first, then the host as it stands: its state now covers a turn to late, which raises no event,
    // and a change the store has not been given yet.
    public static StateHistory Of(IReadOnlyList<HostEvent> events, HostState state, DateTimeOffset stateSince)
    {
        var changes = new List<StateChange>(events.Count + 1);
        foreach (var e in events)
        {
            // Down is decided a grace period after the first missed beat; the outage counts from that beat, as the
            // host's "down since" does.
            var at = e.Kind == HostEventKind.Down && e.LastSeen + e.ExpectedInterval < e.At ? e.LastSeen + e.ExpectedInterval : e.At;
            Add(changes, at, e.State);
        }

        Add(changes, stateSince, state);
        return new StateHistory(changes);
    }

    private static void Add(List<StateChange> changes, DateTimeOffset at, HostState state)
    {
        if (changes.Count > 0 && changes[^1].State == state)
        {
            return;
        }

        // Never before the change it follows: the history stays ordered whatever the clocks did.
        changes.Add(new(changes.Count > 0 && at < changes[^1].At ? changes[^1].At : at, state));
    }
}

// The share of a window a host was up: up and late count as up, down and failing as down; maintenance, pending and
// any time not known (see StateHistory) count as neither. Null when none of the window is known.
internal sealed record UptimeFigure(double? Share, TimeSpan Counted);

internal sealed record UptimeView(
    [property: JsonPropertyName("24h")] double? Day,
    [property: JsonPropertyName("7d")] double? Week,
    [property: JsonPropertyName("30d")] double? Month)
{
    public static UptimeView Of(StateHistory history, DateTimeOffset now) => new(
        HostUptime.Over(history, now, TimeSpan.FromDays(1)).Share,
        HostUptime.Over(history, now, TimeSpan.FromDays(7)).Share,
        HostUptime.Over(history, now, TimeSpan.FromDays(30)).Share);
}

// One slot of the strip on the host page, and how the host did in it.
internal sealed record StripSlot(DateTimeOffset From, DateTimeOffset To, string Outcome);

internal static class HostUptime
{
    public static readonly (string Name, TimeSpan Length)[] Windows =
        [("24h", TimeSpan.FromDays(1)), ("7d", TimeSpan.FromDays(7)), ("30d", TimeSpan.FromDays(30))];

    public static UptimeFigure Over(StateHistory history, DateTimeOffset now, TimeSpan window)
    {
        var (up, down) = (TimeSpan.Zero, TimeSpan.Zero);
        foreach (var (from, to, state) in Spans(history, now - window, now))
        {
            if (state is HostState.Up or HostState.Late)
            {
                up += to - from;
            }
            else if (state is HostState.Down or HostState.Failing)
            {
                down += to - from;
            }
        }

        var counted = up + down;
        return new(counted > TimeSpan.Zero ? Math.Round(up / counted, 4) : null, counted);
    }

    // The last `count` slots of `slot` each, ending now, each by the worst state the host was in during it: no beat-by-beat
    // record is kept, so this is what the stored transitions tell.
    public static IReadOnlyList<StripSlot> Strip(StateHistory history, DateTimeOffset now, TimeSpan slot, int count)
    {
        var slots = new List<StripSlot>(count);
        for (var i = count; i > 0; i--)
        {
            var (from, to) = (now - (slot * i), now - (slot * (i - 1)));
            var worst = Spans(history, from, to).Select(s => s.State).OrderByDescending(Severity).Cast<HostState?>().FirstOrDefault();
            slots.Add(new(from, to, worst switch
            {
                HostState.Down => "missed",
                HostState.Failing => "failed",
                HostState.Late => "late",
                HostState.Maintenance => "maintenance",
                HostState.Up => "on-time",
                _ => "unknown",
            }));
        }

        return slots;
    }

    private static int Severity(HostState state) => state switch
    {
        HostState.Down => 5,
        HostState.Failing => 4,
        HostState.Late => 3,
        HostState.Maintenance => 2,
        HostState.Up => 1,
        _ => 0,
    };

    // The parts of [from, to) in each known state.
    private static IEnumerable<(DateTimeOffset From, DateTimeOffset To, HostState State)> Spans(StateHistory history, DateTimeOffset from, DateTimeOffset to)
    {
        var changes = history.Changes;
        for (var i = 0; i < changes.Count; i++)
        {
            var start = changes[i].At > from ? changes[i].At : from;
            var end = i + 1 < changes.Count && changes[i + 1].At < to ? changes[i + 1].At : to;
            if (end > start)
            {
                yield return (start, end, changes[i].State);
            }
        }
    }
}
