using System.Collections.Immutable;

namespace Heartbeat.Server.Hosts;

// Every host in the order the page and the API list them, trouble first, with a count per state. The registry tells it
// only of state changes (rare: a beat that changes nothing never comes here), under the host's lock; the change makes
// a new immutable listing in O(log n) under a short lock of its own. Readers take the current listing and no lock at
// all, so however many read, no beat waits on them. A paging client walks the listing its first page came from: the
// last few handed out stay pinned, so every host listed then is seen exactly once however states change meanwhile.
internal sealed class HostIndex(HostClock clock)
{
    // Trouble first: down, failing, silent in maintenance, late; then pending (expected but not seen yet: not trouble
    // before its first deadline, but worth seeing above the hosts that are fine); then up.
    public static readonly IReadOnlyList<HostState> Order =
        [HostState.Down, HostState.Failing, HostState.Maintenance, HostState.Late, HostState.Pending, HostState.Up];

    // How many earlier listings stay walkable for paging clients, and for how long after their last page. Each shares
    // all but what changed with the current one; after a storm of state changes (a site down, a restart's hosts
    // turning down) one costs up to a whole tree, 56 bytes a host, so none is kept longer than a walk takes.
    private const int PinnedListings = 8;
    private static readonly TimeSpan PinLifetime = TimeSpan.FromMinutes(1);

    private static readonly int[] Ranks = RanksOf(Order);

    private readonly Lock _lock = new();
    private readonly LinkedList<(HostListing Listing, TimeSpan Until)> _pinned = new();
    private HostListing _current = HostListing.Empty;

    public HostListing Current => Volatile.Read(ref _current);

    public static int RankOf(HostState state) => Ranks[(int)state];

    // Lists the host under its current state, if that changed since it was last listed. The caller holds the host's lock.
    public void Update(TrackedHost host)
    {
        if (host.Listed == host.Record.State)
        {
            return;
        }

        lock (_lock)
        {
            var listing = _current;
            var hosts = listing.Hosts;
            var counts = (int[])listing.Counts.Clone();
            if (host.Listed is { } was)
            {
                hosts = Without(hosts, new ListedHost(RankOf(was), host.Record.Id));
                counts[(int)was]--;
            }

            host.Listed = host.Record.State;
            counts[(int)host.Record.State]++;
            Publish(listing, With(hosts, new ListedHost(RankOf(host.Record.State), host.Record.Id)), counts);
        }
    }

    // Lists many hosts at once, for hosts nobody else changes yet: a restore before the server listens, a fleet's mirror.
    // Many at once make a new listing in one pass (see Merged); a few are put in one by one.
    public void UpdateAll(IEnumerable<TrackedHost> changed)
    {
        lock (_lock)
        {
            var listing = _current;
            var counts = (int[])listing.Counts.Clone();
            var removed = new List<ListedHost>();
            var added = new List<ListedHost>(changed.TryGetNonEnumeratedCount(out var count) ? count : 0);
            foreach (var host in changed)
            {
                if (host.Listed == host.Record.State)
                {
                    continue;
                }

                if (host.Listed is { } was)
                {
                    removed.Add(new ListedHost(RankOf(was), host.Record.Id));
                    counts[(int)was]--;
                }

                host.Listed = host.Record.State;
                added.Add(new ListedHost(RankOf(host.Record.State), host.Record.Id));
                counts[(int)host.Record.State]++;
            }

            Publish(listing, (removed.Count + added.Count) * 8 < listing.Hosts.Count
                ? added.Aggregate(removed.Aggregate(listing.Hosts, Without), With)
                : Merged(listing.Hosts, removed, added), counts);
        }
    }

    // The host is forgotten. The caller holds the host's lock.
    public void Remove(TrackedHost host)
    {
        if (host.Listed is not { } was)
        {
            return;
        }

        lock (_lock)
        {
            var listing = _current;
            var counts = (int[])listing.Counts.Clone();
            counts[(int)was]--;
            host.Listed = null;
            Publish(listing, Without(listing.Hosts, new ListedHost(RankOf(was), host.Record.Id)), counts);
        }
    }

    // Keeps the listing walkable for the cursor about to be handed out; the oldest pinned one goes.
    public void Pin(HostListing listing)
    {
        var now = clock.Read().Mono;
        lock (_pinned)
        {
            Unpin(pin => pin.Listing == listing || pin.Until <= now);
            _pinned.AddFirst((listing, now + PinLifetime));
            if (_pinned.Count > PinnedListings)
            {
                _pinned.RemoveLast();
            }
        }
    }

    // The listing a cursor came from if it is still pinned, else the current one (a host that changed state since may
    // then be missed or seen twice).
    public HostListing Resume(long version)
    {
        var now = clock.Read().Mono;
        lock (_pinned)
        {
            Unpin(pin => pin.Until <= now);
            return _pinned.FirstOrDefault(p => p.Listing.Version == version).Listing ?? Current;
        }
    }

    // Lets go of the listings whose minute is up, even when no one pages any more: called on every sweep.
    public void UnpinExpired()
    {
        var now = clock.Read().Mono;
        lock (_pinned)
        {
            Unpin(pin => pin.Until <= now);
        }
    }

    // The caller holds _pinned.
    private void Unpin(Func<(HostListing Listing, TimeSpan Until), bool> gone)
    {
        for (var node = _pinned.First; node is not null;)
        {
            var next = node.Next;
            if (gone(node.Value))
            {
                _pinned.Remove(node);
            }

            node = next;
        }
    }

    private void Publish(HostListing previous, ImmutableList<ListedHost> hosts, int[] counts) =>
        Volatile.Write(ref _current, new HostListing(previous.Version + 1, hosts, counts));

    // The listing is a list kept in order: a place goes in where a binary search finds it, in O(log n), once.
    private static ImmutableList<ListedHost> With(ImmutableList<ListedHost> hosts, ListedHost place) =>
        hosts.BinarySearch(place) is var at and < 0 ? hosts.Insert(~at, place) : hosts;

    private static ImmutableList<ListedHost> Without(ImmutableList<ListedHost> hosts, ListedHost place) =>
        hosts.BinarySearch(place) is var at and >= 0 ? hosts.RemoveAt(at) : hosts;

    // The listing without the places removed and with those added, built from the places in order in O(n): a tree
    // made from an ordered list needs no comparison. A store hands its hosts over by id, so within each rank they are
    // nearly always in order already: put by rank in one stable pass, then checked, they are sorted only if not
    // (a restore of a million hosts compares each id once, not twenty times).
    private static ImmutableList<ListedHost> Merged(ImmutableList<ListedHost> hosts, List<ListedHost> removed, List<ListedHost> added)
    {
        var gone = removed.ToHashSet();
        var kept = hosts.Where(h => !gone.Contains(h)).ToList();
        var next = new int[Order.Count + 1]; // where each rank's places go next, counted first
        foreach (var place in kept.Concat(added))
        {
            next[place.Rank + 1]++;
        }

        for (var rank = 1; rank < next.Length; rank++)
        {
            next[rank] += next[rank - 1];
        }

        var places = new ListedHost[kept.Count + added.Count];
        foreach (var place in kept.Concat(added))
        {
            places[next[place.Rank]++] = place;
        }

        for (var i = 1; i < places.Length; i++)
        {
            if (places[i - 1].CompareTo(places[i]) >= 0)
            {
                Array.Sort(places);
                return ImmutableList.CreateRange(places.Distinct());
            }
        }

        return ImmutableList.CreateRange(places);
    }

    private static int[] RanksOf(IReadOnlyList<HostState> order)
    {
        var ranks = new int[Enum.GetValues<HostState>().Length];
        for (var i = 0; i < order.Count; i++)
        {
            ranks[(int)order[i]] = i;
        }

        return ranks;
    }
}

// A host's place in the listing: by rank of its state (HostIndex.Order), then by id, ordinal. A null id stands for the
// place before every host of that rank.
internal readonly record struct ListedHost(int Rank, string? Id) : IComparable<ListedHost>
{
    public int CompareTo(ListedHost other) =>
        Rank != other.Rank ? Rank.CompareTo(other.Rank) : string.CompareOrdinal(Id, other.Id);
}

// One version of the listing; never changes once made.
internal sealed class HostListing(long version, ImmutableList<ListedHost> hosts, int[] counts)
{
    public static readonly HostListing Empty = new(0, [], new int[Enum.GetValues<HostState>().Length]);

    public long Version { get; } = version;

    // In order (ListedHost.CompareTo), each place once.
    public ImmutableList<ListedHost> Hosts { get; } = hosts;

    // By (int)HostState.
    public int[] Counts { get; } = counts;

    public ListedHost this[int position] => Hosts[position];

    // Where the hosts in that state start and end (every host without one), in O(log n).
    public (int Start, int End) RangeOf(HostState? state) => state is { } s
        ? (PositionOf(new ListedHost(HostIndex.RankOf(s), null)), PositionOf(new ListedHost(HostIndex.RankOf(s) + 1, null)))
        : (0, Hosts.Count);

    // The position of the first host after this place, in O(log n).
    public int PositionAfter(ListedHost place)
    {
        var found = Hosts.BinarySearch(place);
        return found >= 0 ? found + 1 : ~found;
    }

    private int PositionOf(ListedHost place)
    {
        var found = Hosts.BinarySearch(place);
        return found >= 0 ? found : ~found;
    }
}
