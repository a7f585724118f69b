using System.Diagnostics.CodeAnalysis;
using Heartbeat.Server.Hosts;

namespace Heartbeat.Server.Storage;

// The hosts' rows as this fleet server last wrote them, each with the transaction that wrote it. A flush locks the row
// of every host that beat; a row that still carries this server's last transaction is as this server wrote it, so it
// need not be read back (reading every row back was a fifth of a fleet server's CPU), and only the columns that
// changed since need writing. Every write to a host's row sets its txid, the pause shift of a sweep included, so a
// row anyone else touched since is read in full.
// Used by one flush at a time (FleetSync's rounds take turns).
internal sealed class WrittenRows
{
    // The records themselves, not copies: once written they are the registry's, and nothing changes them after that.
    private readonly Dictionary<string, (ulong Txid, HostRecord Host)> _rows = new(StringComparer.Ordinal);

    // Whether this server wrote the host's row (it exists, unless another server forgot the host since).
    public bool Knows(string id) => _rows.ContainsKey(id);

    // The host as this server wrote it, if the row's last write is that one: stored is that record, to compare a
    // changed copy with; the caller may change a copy of it.
    public bool TryTake(string id, ulong txid, [NotNullWhen(true)] out HostRecord? stored)
    {
        stored = _rows.TryGetValue(id, out var row) && row.Txid == txid ? row.Host : null;
        return stored is not null;
    }

    public void Wrote(IEnumerable<HostRecord> hosts, IEnumerable<string> forgotten, ulong txid)
    {
        foreach (var host in hosts)
        {
            _rows[host.Id] = (txid, host);
        }

        Forget(forgotten);
    }

    // Hosts another server wrote or forgot: their rows must be read, and the old copies need not be kept.
    public void Forget(IEnumerable<string> ids)
    {
        foreach (var id in ids)
        {
            _rows.Remove(id);
        }
    }
}
