using Heartbeat.Server.Hosts;
using Heartbeat.Server.Notify;

namespace Heartbeat.Server.Storage;

/// <summary>
/// Where hosts, their address history and their events are kept across restarts. An interface because
/// there are two: SQLite on one machine (the default) and PostgreSQL for a fleet of servers.
/// </summary>
internal interface IHostStore : IAsyncDisposable
{
    /// <summary>Address changes and events kept per host; older ones are pruned as new ones arrive.</summary>
    const int HistoryPerHost = 100;

    /// <summary>Creates or migrates the schema, then returns every host and the newest event id.</summary>
    Task<(IReadOnlyList<HostRecord> Hosts, long LastEventId)> LoadAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Writes one batch in one transaction: hosts in their latest state, events (with the ids they carry), address
    /// changes, forgotten hosts with their history, and the events' notifications; then keeps each host's history to
    /// <see cref="HistoryPerHost"/>.
    /// </summary>
    Task WriteAsync(HostChanges changes, IReadOnlyList<PendingNotification> notifications, CancellationToken cancellationToken);

    /// <summary>Throws unless the store answers a trivial query.</summary>
    Task CheckAsync(CancellationToken cancellationToken);

    /// <summary>Events after <paramref name="afterId"/>, oldest first; for one host when <paramref name="hostId"/> is given.</summary>
    Task<IReadOnlyList<HostEvent>> ReadEventsAsync(string? hostId, long afterId, int limit, CancellationToken cancellationToken);

    /// <summary>A host's address changes, newest first.</summary>
    Task<IReadOnlyList<AddressChange>> ReadAddressHistoryAsync(string hostId, int limit, CancellationToken cancellationToken);

    /// <summary>Puts notifications in the outbox on their own (those of events are written with the events, in one transaction).</summary>
    Task EnqueueNotificationsAsync(IReadOnlyList<PendingNotification> notifications, CancellationToken cancellationToken);

    /// <summary>Pending notifications whose next attempt is due, oldest first.</summary>
    Task<IReadOnlyList<OutboxEntry>> ReadDueNotificationsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken);

    Task RecordDeliveryAsync(DeliveryOutcome outcome, CancellationToken cancellationToken);

    /// <summary>Per target: what waits, what was parked, what was delivered lately, and the last error.</summary>
    Task<IReadOnlyList<NotifierStats>> ReadNotifierStatsAsync(CancellationToken cancellationToken);

    /// <summary>Forgets delivered notifications older than <paramref name="before"/>.</summary>
    Task PruneDeliveredAsync(DateTimeOffset before, CancellationToken cancellationToken);
}

/// <summary>The store cannot be opened or migrated; the server cannot start with it.</summary>
internal sealed class StoreUnavailableException(string message, Exception inner) : Exception(message, inner);
