using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace Heartbeat.Server.Hosts;

// Every tracked host by its id, with their number kept beside them: the dictionary's own Count (and Values) takes
// every one of its locks, up to a thousand of them in a large fleet, and the admission of each new host asks for it.
internal sealed class HostMap
{
    // As many locks as the dictionary grows to by itself in a large fleet.
    private const int Locks = 1024;

    private ConcurrentDictionary<string, TrackedHost> _hosts = new(StringComparer.Ordinal);
    private int _count;

    public int Count => Volatile.Read(ref _count);

    // Without a lock and without a copy: hosts added or removed meanwhile may or may not be seen.
    public IEnumerable<TrackedHost> All => _hosts.Select(pair => pair.Value);

    public bool Contains(string id) => _hosts.ContainsKey(id);

    public bool TryGet(string id, [MaybeNullWhen(false)] out TrackedHost host) => _hosts.TryGetValue(id, out host);

    // The host of this id, a new one if there was none.
    public TrackedHost GetOrAdd(string id)
    {
        while (true)
        {
            if (_hosts.TryGetValue(id, out var host))
            {
                return host;
            }

            host = new TrackedHost(new HostRecord(id));
            if (_hosts.TryAdd(id, host))
            {
                Interlocked.Increment(ref _count);
                return host;
            }
        }
    }

    // Sizes the map, while it is still empty and nobody else uses it (a restore), for this many hosts at once: it
    // would otherwise grow its table again and again, copying every host so far each time.
    public void Reserve(int count)
    {
        if (_hosts.IsEmpty)
        {
            // A quarter more: the table grows as soon as one lock's share of hosts is over its even share.
            _hosts = new(Locks, count + (count / 4), StringComparer.Ordinal);
        }
    }

    // Keeps this host under its id, in place of the one there was.
    public void Put(TrackedHost host)
    {
        var id = host.Record.Id;
        while (true)
        {
            if (_hosts.TryGetValue(id, out var old) ? _hosts.TryUpdate(id, host, old) : _hosts.TryAdd(id, host))
            {
                if (old is null)
                {
                    Interlocked.Increment(ref _count);
                }

                return;
            }
        }
    }

    public bool TryRemove(string id, [MaybeNullWhen(false)] out TrackedHost host)
    {
        if (!_hosts.TryRemove(id, out host))
        {
            return false;
        }

        Interlocked.Decrement(ref _count);
        return true;
    }
}
