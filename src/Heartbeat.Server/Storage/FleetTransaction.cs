using System.Globalization;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Notify;
using Npgsql;

namespace Heartbeat.Server.Storage;

// One change to the fleet's hosts in the shared store: their rows, locked until it commits; what the server decided
// for them is written back in the same transaction, with the events (their ids from the database, so unique across
// servers) and the events' notifications.
internal sealed class FleetTransaction : IAsyncDisposable
{
    private readonly string _server;
    private readonly WrittenRows _written;

    private FleetTransaction(NpgsqlConnection connection, NpgsqlTransaction transaction, string server, WrittenRows written)
    {
        Connection = connection;
        Transaction = transaction;
        _server = server;
        _written = written;
    }

    public NpgsqlConnection Connection { get; }

    public NpgsqlTransaction Transaction { get; }

    // The locked hosts as the store has them.
    public IReadOnlyList<HostRecord> Hosts { get; set; } = [];

    // Of those, the ones whose rows are as this server last wrote them, each as written then: only the columns that
    // changed since are written back.
    public Dictionary<string, HostRecord> Stored { get; } = new(StringComparer.Ordinal);

    // How long the whole fleet had stood still, when this sweep found it had (every deadline moved by as much).
    public TimeSpan? Paused { get; set; }

    public static async Task<FleetTransaction> BeginAsync(NpgsqlDataSource db, string server, WrittenRows written, CancellationToken cancellationToken)
    {
        var connection = await db.OpenConnectionAsync(cancellationToken);
        try
        {
            return new FleetTransaction(connection, await connection.BeginTransactionAsync(cancellationToken), server, written);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public NpgsqlCommand Command(string sql) => new(sql, Connection, Transaction);

    // Numbers the events from the database's sequence, writes the changes and the notifications route
    // makes of the numbered events, then commits, and keeps the hosts as written.
    public async Task CommitAsync(
        HostChanges changes, Func<IReadOnlyList<HostEvent>, IReadOnlyList<PendingNotification>> route, CancellationToken cancellationToken)
    {
        if (changes.Events.Count > 0)
        {
            var ids = await PostgresChanges.ReserveEventIdsAsync(Connection, Transaction, changes.Events.Count, cancellationToken);
            for (var i = 0; i < ids.Count; i++)
            {
                changes.Events[i].Id = ids[i];
            }
        }

        await PostgresChanges.WriteAsync(Connection, Transaction, changes, route(changes.Events), _server, Stored, cancellationToken);
        await using var current = Command("SELECT pg_current_xact_id()::text");
        var txid = ulong.Parse((string)(await current.ExecuteScalarAsync(cancellationToken))!, CultureInfo.InvariantCulture);
        await Transaction.CommitAsync(cancellationToken);
        _written.Wrote(changes.Hosts, changes.Forgotten, txid);
    }

    public async ValueTask DisposeAsync()
    {
        await Transaction.DisposeAsync();
        await Connection.DisposeAsync();
    }
}
