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
    // Reading the fleet's updates skips at most this many of this server's own transactions by their ids.
    private const int MostSkipped = 32;

    // The records themselves, not copies: once written they are the registry's, and nothing changes them after that.
    private readonly Dictionary<string, (ulong Txid, HostRecord Host)> _rows = new(StringComparer.Ordinal);

    // This server's transactions whose every host row is in _rows, oldest first: what the others wrote lies between them.
    private readonly List<ulong> _transactions = [];

    // Whether this server wrote the host's row (it exists, unless another server forgot the host since).
    public bool Knows(string id) => _rows.ContainsKey(id);

    // The host as this server wrote it, if the row's last write is that one: stored is that record, to compare a
    // changed copy with; the caller may change a copy of it.
    public bool TryTake(string id, string? writtenBy, string server, ulong txid, [NotNullWhen(true)] out HostRecord? stored)
    {
        stored = writtenBy == server && _rows.TryGetValue(id, out var row) && row.Txid == txid ? row.Host : null;
        return stored is not null;
    }

    // complete: every row the transaction wrote is among hosts (a sweep that moved every deadline wrote more).
    public void Wrote(IEnumerable<HostRecord> hosts, IEnumerable<string> forgotten, ulong txid, bool complete)
    {
        foreach (var host in hosts)
        {
            _rows[host.Id] = (txid, host);
        }

        Forget(forgotten);
        if (complete)
        {
            _transactions.Add(txid);
        }
    }

    // Hosts another server wrote or forgot: their rows must be read, and the old copies need not be kept.
    public void Forget(IEnumerable<string> ids)
    {
        foreach (var id in ids)
        {
            _rows.Remove(id);
        }
    }

    // This server's own transactions from cursor on, which reading the fleet's updates need not look at: the newest
    // few, in order. Older ones are of no more use.
    public IReadOnlyList<ulong> TransactionsSince(ulong cursor)
    {
        _transactions.RemoveAll(txid => txid < cursor);
        return _transactions[Math.Max(0, _transactions.Count - MostSkipped)..];
    }
}
