using System.Diagnostics;
using Heartbeat.Server.Diagnostics;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Notify;

namespace Heartbeat.Server.Storage;

// Write-behind from a lone server's registry to its store: every flush interval, everything that changed goes out in
// one transaction, each host once, together with the notifications its events call for. A failed write is kept and
// retried with the next batch; the last flush runs after the web server has drained, so nothing it acknowledged is
// left in memory.
internal sealed partial class StoreFlusher(
    ChangeQueue queue, IHostStore store, Notifiers notifiers, StoreOptions options, TimeProvider time, ServerMetrics metrics, ILogger<StoreFlusher> logger)
    : BackgroundService, IHostedLifecycleService, IStoreWriter
{
    private readonly SemaphoreSlim _flushing = new(1, 1);
    private (HostChanges Changes, IReadOnlyList<PendingNotification> Notifications)? _unwritten;

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _flushing.WaitAsync(cancellationToken);
        try
        {
            var changes = queue.Drain();

            // Routed once, when drained: a batch written on a later try must not count towards a host's flapping twice.
            var notifications = notifiers.Route(changes.Events, changes.Released, time.GetUtcNow());
            if (_unwritten is var (earlier, earlierNotifications))
            {
                (changes, notifications) = (Merge(earlier, changes), [.. earlierNotifications, .. notifications]);
            }

            if (changes.IsEmpty && notifications.Count == 0)
            {
                return;
            }

            try
            {
                var started = Stopwatch.GetTimestamp();
                await store.WriteAsync(changes, notifications, cancellationToken);
                metrics.StoreFlushSeconds.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
                _unwritten = null;
                if (notifications.Count > 0)
                {
                    notifiers.Queued();
                }
            }
#pragma warning disable CA1031 // Whatever went wrong (disk full, database locked), the batch is kept for the next try.
            catch (Exception e)
#pragma warning restore CA1031
            {
                _unwritten = (changes, notifications);
                LogFlushFailed(logger, changes.Hosts.Count, changes.Events.Count, e);
            }
        }
        finally
        {
            _flushing.Release();
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => FlushAsync(CancellationToken.None);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.FlushInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await FlushAsync(CancellationToken.None);
        }
    }

    // An unwritten batch followed by a newer one: newer host states win; events keep their order.
    private static HostChanges Merge(HostChanges earlier, HostChanges later)
    {
        var hosts = earlier.Hosts.Where(h => !later.Forgotten.Contains(h.Id)).ToDictionary(h => h.Id, StringComparer.Ordinal);
        foreach (var host in later.Hosts)
        {
            hosts[host.Id] = host;
        }

        // A body is the same as the store's only if the unwritten batch did not change it either.
        var earlierNewBodies = earlier.Hosts.Select(h => h.Id).Where(id => !earlier.SameBodies.Contains(id)).ToHashSet(StringComparer.Ordinal);
        return new HostChanges(
            [.. hosts.Values],
            [.. earlier.Events, .. later.Events],
            [.. earlier.AddressChanges, .. later.AddressChanges],
            [.. earlier.Forgotten, .. later.Forgotten])
        {
            SameBodies = later.SameBodies.Where(id => !earlierNewBodies.Contains(id)).ToHashSet(StringComparer.Ordinal),
        };
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Error, Message = "Could not write {Hosts} hosts and {Events} events to the store; keeping them for the next try")]
    private static partial void LogFlushFailed(ILogger logger, int hosts, int events, Exception exception);
}
