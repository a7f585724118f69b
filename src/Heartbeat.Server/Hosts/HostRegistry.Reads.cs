using System.Diagnostics.CodeAnalysis;

namespace Heartbeat.Server.Hosts;

// What the page, the API and the metrics read of the hosts: copies, or what a reader takes under a host's lock, so that
// no reader sees a host halfway through a beat.
internal sealed partial class HostRegistry
{
    public HostRecord? Find(string id)
    {
        if (!_hosts.TryGet(id, out var host))
        {
            return null;
        }

        lock (host)
        {
            return host.Record.Copy();
        }
    }

    // The host if it matches: match reads the live record without its lock (a field read is a moment old at worst), so
    // a search copies only the hosts it shows.
    public HostRecord? Find(string id, Func<HostRecord, bool> match)
    {
        if (!_hosts.TryGet(id, out var host) || !match(host.Record))
        {
            return null;
        }

        lock (host)
        {
            return host.Live ? host.Record.Copy() : null;
        }
    }

    // What read takes from the host, under its lock and without a copy: for a scrape that visits every host.
    public bool TryRead<T>(string id, Func<HostRecord, T> read, [MaybeNullWhen(false)] out T value)
    {
        value = default;
        if (!_hosts.TryGet(id, out var host))
        {
            return false;
        }

        lock (host)
        {
            if (!host.Live)
            {
                return false;
            }

            value = read(host.Record);
            return true;
        }
    }

    public Dictionary<HostState, int> CountByState()
    {
        var counts = Index.Current.Counts;
        return Enum.GetValues<HostState>().ToDictionary(s => s, s => counts[(int)s]);
    }
}
