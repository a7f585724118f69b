using Heartbeat.Server.Diagnostics;
using Heartbeat.Server.Logging;

namespace Heartbeat.Server.Hosts;

/// <summary>
/// Where every host event goes, once, whatever caused it (a beat, a sweep, an admin action, a fleet round): it is
/// numbered, counted, shown to live listeners, queued for the store (which routes its alerts to the outbox in the same
/// transaction), and written to the heartbeat log. Numbering, the live feed and the log's queue follow one order, so
/// a listener that resumes after event N misses nothing, and the log reads in event order.
/// </summary>
internal sealed class HostEventSink(HostEventFeed feed, ChangeQueue store, HeartbeatLog log, ServerMetrics metrics)
{
    private readonly Lock _order = new();
    private long _lastId;

    /// <summary>Numbers new events after the newest one the store kept.</summary>
    public void ContinueAfter(long lastEventId) => _lastId = lastEventId;

    /// <summary>
    /// Publishes new events. The log gets <paramref name="leadingLine"/> (the line of the beat that caused them) first, then
    /// the events' summaries, together; the task completes once they are written, or faults with <see cref="HeartbeatLogException"/>.
    /// </summary>
    public Task PublishAsync(IReadOnlyList<HostEvent> events, string? leadingLine = null) => Publish(events, leadingLine, numbered: false);

    /// <summary>Publishes events a fleet's store has already numbered and stored (with their alerts).</summary>
    public Task PublishStoredAsync(IReadOnlyList<HostEvent> events) => Publish(events, leadingLine: null, numbered: true);

    /// <summary>Events another server of the fleet decided (and logged): shown to this server's live listeners too.</summary>
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

    private Task Publish(IReadOnlyList<HostEvent> events, string? leadingLine, bool numbered)
    {
        if (events.Count == 0)
        {
            return leadingLine is null ? Task.CompletedTask : log.AppendAsync(leadingLine);
        }

        var lines = new string[events.Count + (leadingLine is null ? 0 : 1)];
        Task written;
        lock (_order)
        {
            var i = 0;
            if (leadingLine is not null)
            {
                lines[i++] = leadingLine;
            }

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
            metrics.Events.WithLabels(ApiNames.Of(e.Kind)).Inc();
        }

        return written;
    }
}
