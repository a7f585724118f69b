using Heartbeat.Server.Notify;
using Microsoft.Data.Sqlite;
using static Heartbeat.Server.Storage.SqliteCommands;

namespace Heartbeat.Server.Storage;

// The notification outbox: what a write queued for the notifiers, read back by the dispatcher until delivered or parked.
internal sealed partial class SqliteHostStore
{
    public async Task EnqueueNotificationsAsync(IReadOnlyList<PendingNotification> notifications, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await InsertNotificationsAsync(connection, notifications, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<OutboxEntry>> ReadDueNotificationsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT id, target, payload, attempts FROM outbox
            WHERE state = 'pending' AND next_attempt_at <= $now
            ORDER BY id
            LIMIT $limit
            """;
        Bind(command, ("$now", ToMilliseconds(now)), ("$limit", limit));
        return await StoreRows.ReadAllAsync(command, StoreRows.OutboxEntry, cancellationToken);
    }

    public async Task RecordDeliveryAsync(DeliveryOutcome outcome, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            UPDATE outbox SET
                state = $state, attempts = $attempts, next_attempt_at = coalesce($next, next_attempt_at), updated_at = $at,
                last_error = coalesce($error, last_error), error_at = CASE WHEN $error IS NULL THEN error_at ELSE $at END
            WHERE id = $id
            """;
        var state = outcome.Delivered ? "delivered" : outcome.NextAttempt is null ? "parked" : "pending";
        Bind(command, ("$id", outcome.Id), ("$state", state), ("$attempts", outcome.Attempts),
            ("$next", outcome.NextAttempt is { } next ? ToMilliseconds(next) : null), ("$at", ToMilliseconds(outcome.At)), ("$error", outcome.Error));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<NotifierStats>> ReadNotifierStatsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT target,
                   sum(state = 'pending'), sum(state = 'parked'), sum(state = 'delivered'),
                   max(CASE WHEN state = 'delivered' THEN updated_at END),
                   (SELECT last_error FROM outbox e WHERE e.target = o.target AND e.error_at IS NOT NULL ORDER BY e.error_at DESC LIMIT 1),
                   max(error_at)
            FROM outbox o
            GROUP BY target
            """;
        return await StoreRows.ReadAllAsync(command, StoreRows.NotifierStats, cancellationToken);
    }

    public async Task PruneDeliveredAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM outbox WHERE state = 'delivered' AND updated_at < $before";
        Bind(command, ("$before", ToMilliseconds(before)));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    // New notifications are due at once; their creation time is the server time they carry.
    private static async Task InsertNotificationsAsync(
        SqliteConnection connection, IReadOnlyList<PendingNotification> notifications, CancellationToken cancellationToken)
    {
        await using var insert = connection.CreateCommand();
        insert.CommandText = """
            INSERT INTO outbox (target, payload, state, attempts, next_attempt_at, created_at, updated_at)
            VALUES ($target, $payload, 'pending', 0, $now, $now, $now)
            """;
        foreach (var pending in notifications)
        {
            Bind(insert, ("$target", pending.Target), ("$payload", pending.Notification.ToJson()), ("$now", ToMilliseconds(pending.Notification.ServerTime)));
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
