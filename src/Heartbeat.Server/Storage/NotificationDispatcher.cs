using System.Collections.Concurrent;
using Heartbeat.Server.Diagnostics;
using Heartbeat.Server.Notify;

namespace Heartbeat.Server.Storage;

// Delivers the outbox: each due notification to its target, a few at a time per target, each attempt
// with a timeout. A failure is retried with exponential backoff and jitter; after the last attempt the
// notification is parked (kept, counted and shown, not retried). Delivery is at least once: an attempt
// cut short by a stop or a crash is made again after the restart.
internal sealed partial class NotificationDispatcher(
    IHostStore store, Notifiers notifiers, NotifyOptions options, TimeProvider time, ServerMetrics metrics, ILogger<NotificationDispatcher> logger)
    : BackgroundService
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan KeepDelivered = TimeSpan.FromDays(7);
    private static readonly TimeSpan LongestRoundWait = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<long, Task> _inFlight = new();

    // Deliveries that ended while the outbox was being read: that read may still show them due, from before their
    // attempt was recorded, and must not start them again (a duplicate delivery otherwise).
    private readonly ConcurrentDictionary<long, byte> _endedDuringRead = new();
    // Targets come and go with a reload (SIGHUP), so each gets its gate when first used.
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _perTarget = new(StringComparer.Ordinal);

    // Summaries settled (taken from the dampers) but not yet in the outbox: kept for the next round if the store fails.
    private readonly List<PendingNotification> _settledUnsaved = [];

    private DateTimeOffset _nextPrune = DateTimeOffset.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Rounds that failed in a row: while the store is away the next round waits longer each time (1 s, 2 s, ...
        // up to 10 s), so an outage costs an error line now and then, not a connection attempt and a log line in a loop.
        var failedRounds = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (failedRounds > 0)
                {
                    await Task.Delay(WaitAfter(failedRounds), time, stoppingToken);
                }

                await DispatchDueAsync(stoppingToken);
                failedRounds = 0;
                await notifiers.WaitForQueuedAsync(PollInterval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
#pragma warning disable CA1031 // The outbox stays; the next round tries again.
            catch (Exception e)
#pragma warning restore CA1031
            {
                failedRounds++;
                LogRoundFailed(logger, e.Message, WaitAfter(failedRounds).TotalSeconds);
            }
        }

        await Task.WhenAll(_inFlight.Values);
    }

    private async Task DispatchDueAsync(CancellationToken stoppingToken)
    {
        var now = time.GetUtcNow();
        _settledUnsaved.AddRange(notifiers.Settle(now));
        if (_settledUnsaved.Count > 0)
        {
            try
            {
                await store.EnqueueNotificationsAsync(_settledUnsaved, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                metrics.StoreWriteErrors.Inc();
                throw;
            }

            _settledUnsaved.Clear();
        }

        _endedDuringRead.Clear();
        foreach (var entry in await store.ReadDueNotificationsAsync(now, limit: 200, stoppingToken))
        {
            if (!_inFlight.ContainsKey(entry.Id) && !_endedDuringRead.ContainsKey(entry.Id))
            {
                // Not awaited here: each delivery runs on its own, bounded per target; ExecuteAsync waits for all at the end.
                _inFlight[entry.Id] = DeliverAsync(entry, stoppingToken);
            }
        }

        if (now >= _nextPrune)
        {
            _nextPrune = now + TimeSpan.FromHours(1);
            await store.PruneDeliveredAsync(now - KeepDelivered, stoppingToken);
        }
    }

    private async Task DeliverAsync(OutboxEntry entry, CancellationToken stoppingToken)
    {
        await Task.Yield();
        try
        {
            if (notifiers.Find(entry.Target) is not { } target)
            {
                // Configured once, gone since: nothing can deliver it, so it is parked where the user can see it.
                await RecordAsync(entry, delivered: false, parked: true, "this target is no longer configured");
                return;
            }

            var gate = _perTarget.GetOrAdd(target.Key, _ => new SemaphoreSlim(options.ConcurrencyPerTarget));
            await gate.WaitAsync(stoppingToken);
            try
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                attempt.CancelAfter(target is ExecTarget ? options.CommandTimeout + NotifyOptions.CommandKillGrace : options.AttemptTimeout);
                await target.DeliverAsync(entry.Notification, attempt.Token);
                await RecordAsync(entry, delivered: true, parked: false, error: null);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested && e is NotificationFailedException or HttpRequestException or OperationCanceledException or IOException)
            {
                var error = Describe(e);
                var parked = entry.Attempts + 1 >= options.MaxAttempts;
                await RecordAsync(entry, delivered: false, parked, error);
                LogDeliveryFailed(logger, entry.Notification.EventId, target.DisplayName, entry.Attempts + 1, parked ? "parked" : "will retry", error);
            }
            finally
            {
                gate.Release();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the entry stays pending and goes out after the restart.
        }
#pragma warning disable CA1031 // One broken delivery must not take the dispatcher down.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogDispatchFailed(logger, e.Message);
        }
        finally
        {
            _endedDuringRead[entry.Id] = 0; // before it leaves _inFlight, so that a read in progress sees one or the other
            _inFlight.TryRemove(entry.Id, out _);
        }
    }

    private Task RecordAsync(OutboxEntry entry, bool delivered, bool parked, string? error)
    {
        var now = time.GetUtcNow();
        var attempts = entry.Attempts + 1;
        var next = delivered || parked ? (DateTimeOffset?)null : now + Backoff(attempts);
        metrics.Notifications.WithLabels(delivered ? "delivered" : parked ? "parked" : "failed").Inc();
        return store.RecordDeliveryAsync(new DeliveryOutcome(entry.Id, delivered, attempts, now, next, error), CancellationToken.None);
    }

    // What went wrong, in the words of the layer that knows: HttpClient's own message ("An error occurred while
    // sending the request.") says nothing, the socket's ("Connection refused", "Connection reset by peer") does.
    internal static string Describe(Exception e)
    {
        if (e is OperationCanceledException)
        {
            return "timed out";
        }

        var cause = e;
        while (e is HttpRequestException && cause.InnerException is { } inner)
        {
            cause = inner;
        }

        return cause.Message;
    }

    // 1 s × 2^(failedRounds-1), up to LongestRoundWait.
    private static TimeSpan WaitAfter(int failedRounds) =>
        TimeSpan.FromSeconds(Math.Min(Math.Pow(2, Math.Min(failedRounds - 1, 30)), LongestRoundWait.TotalSeconds));

    // RetryBase × 2^(attempts-1), capped, times a random 0.8–1.2 so retries from many failures spread out.
    private TimeSpan Backoff(int attempts)
    {
        var exponential = options.RetryBase.TotalMilliseconds * Math.Pow(2, Math.Min(attempts - 1, 30));
        var capped = Math.Min(exponential, options.RetryCap.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.8 + (0.4 * Random.Shared.NextDouble())));
    }

    [LoggerMessage(EventId = 400, Level = LogLevel.Warning, Message = "Notification {EventId} to {Target} failed (attempt {Attempt}, {Next}): {Error}")]
    private static partial void LogDeliveryFailed(ILogger logger, string eventId, string target, int attempt, string next, string error);

    [LoggerMessage(EventId = 401, Level = LogLevel.Error, Message = "Notification dispatch failed ({Reason}); the outbox is kept and tried again")]
    private static partial void LogDispatchFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 402, Level = LogLevel.Error, Message = "The outbox could not be read or written ({Reason}); it is kept and tried again in {Seconds} s")]
    private static partial void LogRoundFailed(ILogger logger, string reason, double seconds);
}
