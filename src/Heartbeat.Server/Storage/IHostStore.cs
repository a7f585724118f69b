using Heartbeat.Server.Hosts;
using Heartbeat.Server.Notify;

namespace Heartbeat.Server.Storage;

// Where hosts, their address history and their events are kept across restarts. An interface because
// there are two: SQLite on one machine (the default) and PostgreSQL for a fleet of servers.
internal interface IHostStore : IAsyncDisposable
{
    // Address changes and events kept per host; older ones are pruned as new ones arrive.
    const int HistoryPerHost = 100;

    // How many rows a host's history may gain past HistoryPerHost before it is pruned: pruning every host at every
    // flush that gives it a row was a third of what an IP change cost the store. Readers take the newest HistoryPerHost.
    const int HistorySlack = 16;

    // Where the store is, for messages: a file's path, or a database's host and name (never a password).
    string Description { get; }

    // Creates or migrates the schema, then returns every host and the newest event id.
    Task<(IReadOnlyList<HostRecord> Hosts, long LastEventId)> LoadAsync(CancellationToken cancellationToken);

    // Writes one batch in one transaction: hosts in their latest state, events (with the ids they carry), address
    // changes, forgotten hosts with their history, and the events' notifications; then keeps each host's history to
    // HistoryPerHost (see HistorySlack).
    Task WriteAsync(HostChanges changes, IReadOnlyList<PendingNotification> notifications, CancellationToken cancellationToken);

    // Throws unless the store answers a trivial query.
    Task CheckAsync(CancellationToken cancellationToken);

    // Events of every host after afterId, oldest first: what a live listener that comes back has missed.
    Task<IReadOnlyList<HostEvent>> ReadEventsAsync(long afterId, int limit, CancellationToken cancellationToken);

    // A host's newest events, at most limit of them, oldest first.
    Task<IReadOnlyList<HostEvent>> ReadHostEventsAsync(string hostId, int limit, CancellationToken cancellationToken);

    // A host's address changes, newest first.
    Task<IReadOnlyList<AddressChange>> ReadAddressHistoryAsync(string hostId, int limit, CancellationToken cancellationToken);

    // Puts notifications in the outbox on their own (those of events are written with the events, in one transaction).
    Task EnqueueNotificationsAsync(IReadOnlyList<PendingNotification> notifications, CancellationToken cancellationToken);

    // Pending notifications whose next attempt is due, oldest first.
    Task<IReadOnlyList<OutboxEntry>> ReadDueNotificationsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken);

    Task RecordDeliveryAsync(DeliveryOutcome outcome, CancellationToken cancellationToken);

    // Per target: what waits, what was parked, what was delivered lately, and the last error.
    Task<IReadOnlyList<NotifierStats>> ReadNotifierStatsAsync(CancellationToken cancellationToken);

    // Forgets delivered notifications older than before.
    Task PruneDeliveredAsync(DateTimeOffset before, CancellationToken cancellationToken);
}

// The store cannot be opened or migrated; the server cannot start with it.
internal sealed class StoreUnavailableException(string message, Exception inner) : Exception(message, inner);

// The store is not the one this server wrote to before (its file was deleted or replaced): nothing of the batch was
// written, and the next write goes to the store as it is now, which needs every host to be complete.
internal sealed class StoreReplacedException(string message) : Exception(message);
