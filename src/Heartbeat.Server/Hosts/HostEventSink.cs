using Heartbeat.Server.Diagnostics;
using Heartbeat.Server.Logging;
using Prometheus;

namespace Heartbeat.Server.Hosts;

// Where every host event goes, once, whatever caused it (a beat, a sweep, an admin action, a fleet round): it is
// numbered, counted, shown to live listeners, queued for the store (which routes its alerts to the outbox in the same
// transaction), and written to the heartbeat log. Numbering, the live feed and the log's queue follow one order, so
// a listener that resumes after event N misses nothing, and the log reads in event order.
internal sealed class HostEventSink(HostEventFeed feed, ChangeQueue store, HeartbeatLog log, ServerMetrics metrics)
{
    private readonly Lock _order = new();

    // Each kind's counter, looked up once (a lookup by label is a dictionary search on every event); every kind is
    // shown from the start, at 0.
    private readonly Counter.Child[] _counts = [.. Enum.GetValues<HostEventKind>().Select(kind => metrics.Events.WithLabels(ApiNames.Of(kind)))];
    private long _lastId;

    // Numbers new events after the newest one the store kept.
    public void ContinueAfter(long lastEventId) => _lastId = lastEventId;

    // Publishes new events; the task completes once their lines are in the log, or faults with HeartbeatLogException.
    public Task PublishAsync(IReadOnlyList<HostEvent> events) => Publish(events, numbered: false);

    // Publishes events a fleet's store has already numbered and stored (with their alerts).
    public Task PublishStoredAsync(IReadOnlyList<HostEvent> events) => Publish(events, numbered: true);

    // Events another server of the fleet decided (and logged): shown to this server's live listeners too.
    public void Show(IReadOnlyList<HostEvent> events)
    {
        lock (_order)
        {
            foreach (var e in events)
            {
                feed.Publish(e);
            }
        }
    }

    private Task Publish(IReadOnlyList<HostEvent> events, bool numbered)
    {
        if (events.Count == 0)
        {
            return Task.CompletedTask;
        }

        var lines = new string[events.Count];
        Task written;
        lock (_order)
        {
            var i = 0;
            foreach (var e in events)
            {
                if (!numbered)
                {
                    e.Id = ++_lastId;
                    store.EventPublished(e);
                }

                feed.Publish(e);
                lines[i++] = e.Summary;
            }

            written = log.AppendAsync(lines);
        }

        foreach (var e in events)
        {
            _counts[(int)e.Kind].Inc();
        }

        return written;
    }
}
