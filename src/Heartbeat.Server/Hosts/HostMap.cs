using System.Diagnostics.CodeAnalysis;
using System.Numerics;

namespace Heartbeat.Server.Hosts;

// Every tracked host by its id: an open-addressing table of the hosts themselves (each keeps its id), read without a
// lock and written under one. A ConcurrentDictionary cost a host 60-70 bytes (a node of key, value, link and hash,
// and its share of the buckets); this costs 11-16 (one slot, a table between a half and three quarters full), which a
// million hosts need (#19: 500 bytes a host). Readers probe whatever table they load: a host never moves within a
// table, a slot once taken stays taken (a removed host leaves a marker until the next resize), and a resize copies
// into a new table that is published whole, so a reader never misses a host that was there throughout its lookup.
// Writes are new hosts, restores and forgets: rare next to the beats that look hosts up.
internal sealed class HostMap
{
    private const int SmallestTable = 16;

    // What a removed host leaves in its slot: lookups probe past it.
    private static readonly TrackedHost Removed = new(new HostRecord(""));

    private readonly Lock _writing = new();
    private TrackedHost?[] _slots = new TrackedHost?[SmallestTable];
    private int _taken; // slots holding a host or Removed; under _writing
    private int _count;

    public int Count => Volatile.Read(ref _count);

    // Without a lock and without a copy: hosts added or removed meanwhile may or may not be seen.
    public IEnumerable<TrackedHost> All
    {
        get
        {
            foreach (var slot in Volatile.Read(ref _slots))
            {
                if (slot is not null && !ReferenceEquals(slot, Removed))
                {
                    yield return slot;
                }
            }
        }
    }

    public bool Contains(string id) => TryGet(id, out _);

    public bool TryGet(string id, [MaybeNullWhen(false)] out TrackedHost host)
    {
        var slots = Volatile.Read(ref _slots);
        var mask = slots.Length - 1;
        for (var i = Start(id, mask); ; i = (i + 1) & mask)
        {
            host = Volatile.Read(ref slots[i]);
            if (host is null || (!ReferenceEquals(host, Removed) && string.Equals(host.Record.Id, id, StringComparison.Ordinal)))
            {
                return host is not null;
            }
        }
    }

    // The host of this id, a new one if there was none.
    public TrackedHost GetOrAdd(string id)
    {
        if (TryGet(id, out var host))
        {
            return host;
        }

        lock (_writing)
        {
            if (TryGet(id, out host))
            {
                return host;
            }

            host = new TrackedHost(new HostRecord(id));
            Store(host);
            return host;
        }
    }

    // Takes a store's hosts, whose ids are distinct. Into an empty map (a restore) they go in one table sized for them
    // all, without a lookup: comparing ids on the way was a tenth of a million hosts' start-up.
    public void Restore(IReadOnlyList<TrackedHost> hosts)
    {
        lock (_writing)
        {
            if (_count > 0)
            {
                foreach (var host in hosts)
                {
                    Store(host);
                }

                return;
            }

            var slots = new TrackedHost?[Math.Max(_slots.Length, TableFor(hosts.Count))];
            foreach (var host in hosts)
            {
                slots[FreeSlot(slots, host.Record.Id)] = host;
            }

            Volatile.Write(ref _slots, slots);
            _taken = _count = hosts.Count;
        }
    }

    // Keeps this host under its id, in place of the one there was.
    public void Put(TrackedHost host)
    {
        lock (_writing)
        {
            Store(host);
        }
    }

    public bool TryRemove(string id, [MaybeNullWhen(false)] out TrackedHost host)
    {
        lock (_writing)
        {
            var slot = Find(_slots, id);
            host = _slots[slot];
            if (host is null)
            {
                return false;
            }

            Volatile.Write(ref _slots[slot], Removed);
            _count--;
            return true;
        }
    }

    // Under _writing.
    private void Store(TrackedHost host)
    {
        if (_taken + 1 > _slots.Length / 4 * 3)
        {
            Resize(TableFor(_count + 1));
        }

        var slot = Find(_slots, host.Record.Id);
        if (_slots[slot] is null)
        {
            slot = FreeSlot(_slots, host.Record.Id);
            if (_slots[slot] is null)
            {
                _taken++;
            }

            _count++;
        }

        Volatile.Write(ref _slots[slot], host);
    }

    private void Resize(int size)
    {
        var slots = new TrackedHost?[size];
        foreach (var host in All)
        {
            slots[FreeSlot(slots, host.Record.Id)] = host;
        }

        Volatile.Write(ref _slots, slots);
        _taken = _count;
    }

    // A table at most half full with this many hosts.
    private static int TableFor(int count) => Math.Max(SmallestTable, (int)BitOperations.RoundUpToPowerOf2((uint)count * 2));

    // The slot of the host with this id, or the empty slot where its probe ends; under _writing, as no one else
    // fills a slot meanwhile.
    private static int Find(TrackedHost?[] slots, string id)
    {
        var mask = slots.Length - 1;
        var i = Start(id, mask);
        while (slots[i] is { } slot && (ReferenceEquals(slot, Removed) || !string.Equals(slot.Record.Id, id, StringComparison.Ordinal)))
        {
            i = (i + 1) & mask;
        }

        return i;
    }

    // Where a new host of this id goes: the first removed host's slot on its probe, else the empty one that ends it.
    private static int FreeSlot(TrackedHost?[] slots, string id)
    {
        var mask = slots.Length - 1;
        var i = Start(id, mask);
        while (slots[i] is { } slot && !ReferenceEquals(slot, Removed))
        {
            i = (i + 1) & mask;
        }

        return i;
    }

    private static int Start(string id, int mask) => string.GetHashCode(id, StringComparison.Ordinal) & mask;
}
