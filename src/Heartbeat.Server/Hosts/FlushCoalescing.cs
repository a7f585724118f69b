using Heartbeat.Server.Logging;

namespace Heartbeat.Server.Hosts;

// What a flush stores of a host whose address moved several times since the last flush: one row, first -> last, with
// how many changes it stands for, so that the store costs per host and not per beat. The heartbeat log and live
// listeners still see every change; only the stored history (and the alerts routed from it) is folded.
internal static class FlushCoalescing
{
    // A run of a host's IP-change events with none of its other events between them becomes its last event, from
    // the first one's previous IP. Other events, and the order of what is kept, stay as they were.
    public static List<HostEvent> Events(IReadOnlyList<HostEvent> events)
    {
        var kept = new List<HostEvent>(events.Count);
        var runs = new Dictionary<string, int>(StringComparer.Ordinal); // host -> index in kept of its open run's event
        for (var i = events.Count - 1; i >= 0; i--)
        {
            var e = events[i];
            if (e.Kind == HostEventKind.IpChanged && runs.TryGetValue(e.HostId, out var at) && SameAlerting(kept[at], e))
            {
                kept[at] = kept[at] with { PreviousIp = e.PreviousIp, Changes = kept[at].Changes + e.Changes };
                continue;
            }

            if (e.Kind == HostEventKind.IpChanged)
            {
                runs[e.HostId] = kept.Count;
            }
            else
            {
                runs.Remove(e.HostId);
            }

            kept.Add(e);
        }

        kept.Reverse();
        for (var i = 0; i < kept.Count; i++)
        {
            if (kept[i].Changes > 1)
            {
                kept[i] = kept[i] with { Summary = EventLines.IpChanges(kept[i].HostId, kept[i].PreviousIp, kept[i].Ip, kept[i].Changes) };
            }
        }

        return kept;
    }

    // Each host's changes of one kind of address become its last one, from the first one's previous address.
    public static List<AddressChange> AddressChanges(IReadOnlyList<AddressChange> changes)
    {
        var kept = new List<AddressChange>(changes.Count);
        var latest = new Dictionary<(string, AddressKind), int>(); // host and kind -> index in kept
        for (var i = changes.Count - 1; i >= 0; i--)
        {
            var change = changes[i];
            if (latest.TryGetValue((change.HostId, change.Kind), out var at))
            {
                kept[at] = kept[at] with { Previous = change.Previous, Changes = kept[at].Changes + change.Changes };
                continue;
            }

            latest[(change.HostId, change.Kind)] = kept.Count;
            kept.Add(change);
        }

        kept.Reverse();
        return kept;
    }

    // A change made in a maintenance window alerts nobody; one made after it does, and must not be folded into it.
    private static bool SameAlerting(HostEvent a, HostEvent b) => a.Silenced == b.Silenced && a.Held == b.Held;
}
