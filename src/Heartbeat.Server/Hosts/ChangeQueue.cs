using System.Collections.Concurrent;

namespace Heartbeat.Server.Hosts;

// Write-behind: what the store has yet to receive, drained by the store flusher every flush interval. Each host is
// queued once however often it changes, and drained in its latest state; its IP changes are folded as they come.
internal sealed class ChangeQueue(HostTransitions transitions, HostClock clock)
{
    private readonly ConcurrentQueue<TrackedHost> _hosts = new();
    private readonly Lock _folding = new();
    private FoldedEvents _events = new();
    private FoldedAddressChanges _addressChanges = new();

    // The folds of the last drain, emptied, to take over at the next: one drain at a time (the flusher's).
    private FoldedEvents _drainedEvents = new();
    private FoldedAddressChanges _drainedAddressChanges = new();
    private readonly ConcurrentQueue<string> _forgotten = new();
    private readonly ConcurrentQueue<HostEvent> _released = new();

    // The host changed; the caller holds its lock.
    public void HostChanged(TrackedHost host)
    {
        if (!host.Dirty)
        {
            host.Dirty = true;
            _hosts.Enqueue(host);
        }
    }

    public void AddressesChanged(List<AddressChange> changes)
    {
        lock (_folding)
        {
            foreach (var change in changes)
            {
                _addressChanges.Add(change);
            }
        }
    }

    // In the order of their numbers: the event sink publishes one at a time.
    public void EventPublished(HostEvent e)
    {
        lock (_folding)
        {
            _events.Add(e);
        }
    }

    public void Forgotten(string id) => _forgotten.Enqueue(id);

    // Held alerts that a site review let go: stored already, they go to the notifiers now.
    public void Released(IReadOnlyList<HostEvent> events)
    {
        foreach (var e in events)
        {
            _released.Enqueue(e);
        }
    }

    // Everything that changed since the last call, each host once in its latest state, with its IP changes since then
    // folded into one event and one address change of each kind (see FlushCoalescing).
    public HostChanges Drain()
    {
        // Released alerts first: they belong to events stored earlier than any drained below.
        var released = DrainQueue(_released);
        var forgotten = DrainQueue(_forgotten);
        FoldedEvents folded;
        FoldedAddressChanges foldedAddresses;
        lock (_folding)
        {
            (folded, _events, foldedAddresses, _addressChanges) = (_events, _drainedEvents, _addressChanges, _drainedAddressChanges);
        }

        var events = folded.Take();
        var addressChanges = foldedAddresses.Take();
        (_drainedEvents, _drainedAddressChanges) = (folded, foldedAddresses);
        var hosts = new List<HostRecord>();
        var sameBodies = new HashSet<string>(StringComparer.Ordinal);
        var now = clock.Read();
        while (_hosts.TryDequeue(out var host))
        {
            lock (host)
            {
                host.Dirty = false;
                if (host.Live)
                {
                    var stored = host.Record.Copy();
                    stored.DueAt = stored.State == HostState.Down ? null : now.WallAt(transitions.Deadline(stored));
                    hosts.Add(stored);
                    if (PingBody.SameContent(host.StoredBody, stored.LastBody))
                    {
                        sameBodies.Add(stored.Id);
                    }

                    host.StoredBody = stored.LastBody;
                }
            }
        }

        return new HostChanges(hosts, events, addressChanges, forgotten) { Released = released, SameBodies = sameBodies };
    }

    private static List<T> DrainQueue<T>(ConcurrentQueue<T> queue)
    {
        var items = new List<T>();
        while (queue.TryDequeue(out var item))
        {
            items.Add(item);
        }

        return items;
    }
}

// What the store has to write: hosts in their latest state, new events and address changes, and forgotten hosts.
internal sealed record HostChanges(
    IReadOnlyList<HostRecord> Hosts,
    IReadOnlyList<HostEvent> Events,
    IReadOnlyList<AddressChange> AddressChanges,
    IReadOnlyList<string> Forgotten)
{
    public static readonly HostChanges None = new([], [], [], []);

    // Events stored earlier whose held alerts are now to go out (see SiteOutages).
    public IReadOnlyList<HostEvent> Released { get; init; } = [];

    // Hosts whose ping body (kind and text; its time is a small column) the store has already: it is not written again.
    // Empty unless the writer keeps track, as a lone server's write-behind does; then every body is written.
    public IReadOnlySet<string> SameBodies { get; init; } = new HashSet<string>();

    public bool IsEmpty => Hosts.Count == 0 && Events.Count == 0 && AddressChanges.Count == 0 && Forgotten.Count == 0;
}
