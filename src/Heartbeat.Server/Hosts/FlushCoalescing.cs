using System.Runtime.InteropServices;
using Heartbeat.Server.Logging;

namespace Heartbeat.Server.Hosts;

// What a flush stores of a host whose address moved several times since the last flush: one row, first -> last, with
// how many changes it stands for, so that the store costs per host and not per beat. The heartbeat log and live
// listeners still see every change; only the stored history (and the alerts routed from it) is folded.
internal static class FlushCoalescing
{
    public static List<HostEvent> Events(IEnumerable<HostEvent> events)
    {
        var folded = new FoldedEvents();
        foreach (var e in events)
        {
            folded.Add(e);
        }

        return folded.Take();
    }

    public static List<AddressChange> AddressChanges(IEnumerable<AddressChange> changes)
    {
        var folded = new FoldedAddressChanges();
        foreach (var change in changes)
        {
            folded.Add(change);
        }

        return folded.Take();
    }
}

// A run of a host's IP-change events with none of its other events between them becomes its last event, from the
// first one's previous IP. Other events, and the order of what is kept, stay as they were. Folded as they arrive, so
// that a host moving on every beat leaves one entry a flush waiting, not one a beat for the collector to promote.
internal sealed class FoldedEvents
{
    private readonly RunFold<string, HostEvent> _fold = new(e => e.Changes, Merge, StringComparer.Ordinal);

    public void Add(HostEvent e)
    {
        if (e.Kind == HostEventKind.IpChanged)
        {
            _fold.Fold(e.HostId, e, SameAlerting);
        }
        else
        {
            _fold.EndRun(e.HostId);
            _fold.Add(e);
        }
    }

    public List<HostEvent> Take() => _fold.Take();

    private static HostEvent Merge(HostEvent first, HostEvent last, int changes) =>
        last with { PreviousIp = first.PreviousIp, Changes = changes, Summary = EventLines.IpChanges(last.HostId, first.PreviousIp, last.Ip, changes) };

    // A change made in a maintenance window alerts nobody; one made after it does, and must not be folded into it.
    private static bool SameAlerting(HostEvent a, HostEvent b) => a.Silenced == b.Silenced && a.Held == b.Held;
}

// Each host's changes of one kind of address become its last one, from the first one's previous address.
internal sealed class FoldedAddressChanges
{
    private readonly RunFold<(string, AddressKind), AddressChange> _fold =
        new(c => c.Changes, (first, last, changes) => last with { Previous = first.Previous, Changes = changes });

    public void Add(AddressChange change) => _fold.Fold((change.HostId, change.Kind), change, joins: null);

    public List<AddressChange> Take() => _fold.Take();
}

// Items folded by key as they arrive: an open run keeps its first and last item and how many changes it holds, and
// takes the place of its last item in the order they came.
internal sealed class RunFold<TKey, T>(Func<T, int> changesOf, Func<T, T, int, T> merge, IEqualityComparer<TKey>? keys = null)
    where TKey : notnull
    where T : class
{
    // Kept between flushes up to this size; a storm's larger buffers go back to the collector.
    private const int KeptCapacity = 16_384;

    private Dictionary<TKey, int> _open = new(keys); // key -> index of its open run in _entries
    private List<Entry> _entries = [];
    private int _arrivals;
    private bool _reordered;

    public void Add(T item) => _entries.Add(new Entry(item, item, changesOf(item), ++_arrivals));

    public void EndRun(TKey key) => _open.Remove(key);

    // Joins the key's open run when there is one and joins says so (always, if null); else starts a run.
    public void Fold(TKey key, T item, Func<T, T, bool>? joins)
    {
        ref var at = ref CollectionsMarshal.GetValueRefOrAddDefault(_open, key, out var open);
        if (open && _entries[at] is var run && (joins is null || joins(run.Last, item)))
        {
            _entries[at] = run with { Last = item, Changes = run.Changes + changesOf(item), Arrival = ++_arrivals };
            _reordered = true;
            return;
        }

        at = _entries.Count;
        Add(item);
    }

    // Everything folded so far, in the order of each entry's last item; the fold starts empty again.
    public List<T> Take()
    {
        if (_reordered)
        {
            _entries.Sort(static (a, b) => a.Arrival.CompareTo(b.Arrival));
        }

        var taken = new List<T>(_entries.Count);
        foreach (var entry in _entries)
        {
            taken.Add(ReferenceEquals(entry.First, entry.Last) ? entry.Last : merge(entry.First, entry.Last, entry.Changes));
        }

        _entries = _entries.Capacity > KeptCapacity ? [] : _entries;
        _entries.Clear();
        _open = _open.EnsureCapacity(0) > KeptCapacity ? new(keys) : _open;
        _open.Clear();
        _arrivals = 0;
        _reordered = false;
        return taken;
    }

    private readonly record struct Entry(T First, T Last, int Changes, int Arrival);
}
