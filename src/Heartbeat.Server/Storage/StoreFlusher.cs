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
    ChangeQueue queue,
    HostRegistry registry,
    IHostStore store,
    Notifiers notifiers,
    StoreOptions options,
    TimeProvider time,
    ServerMetrics metrics,
    ILogger<StoreFlusher> logger)
    : BackgroundService, IHostedLifecycleService, IStoreWriter
{
    private readonly SemaphoreSlim _flushing = new(1, 1);
    private readonly WriteHealth _health = new(time);
    private (HostChanges Changes, IReadOnlyList<PendingNotification> Notifications)? _unwritten;

    public WriteStatus Status => _health.Status;

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _flushing.WaitAsync(cancellationToken);
        try
        {
            // A store found replaced takes every host on the second try.
            if (!await TryFlushAsync(cancellationToken))
            {
                await TryFlushAsync(cancellationToken);
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

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        await FlushAsync(CancellationToken.None);
        if (_unwritten is var (changes, _))
        {
            LogLostAtExit(logger, store.Description, changes.Hosts.Count, changes.Events.Count);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.FlushInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await FlushAsync(CancellationToken.None);
        }
    }

    // False when the store turned out to be replaced: every host is queued again, for a second try at once.
    private async Task<bool> TryFlushAsync(CancellationToken cancellationToken)
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
            return true;
        }

        try
        {
            var started = Stopwatch.GetTimestamp();
            await store.WriteAsync(changes, notifications, cancellationToken);
            metrics.StoreFlushSeconds.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
            _unwritten = null;
            _health.Succeeded();
            if (notifications.Count > 0)
            {
                notifiers.Queued();
            }

            return true;
        }
        catch (StoreReplacedException e)
        {
            _unwritten = (changes, notifications);
            _health.Mended(e.Message);
            metrics.StoreWriteErrors.Inc();
            LogStoreReplaced(logger, e.Message, registry.Count);
            registry.RequeueAll();
            return false;
        }
#pragma warning disable CA1031 // Whatever went wrong (disk full, database locked), the batch is kept for the next try.
        catch (Exception e)
#pragma warning restore CA1031
        {
            _unwritten = (changes, notifications);
            metrics.StoreWriteErrors.Inc();
            if (_health.Failed(e.Message))
            {
                LogFlushFailed(logger, store.Description, changes.Hosts.Count, changes.Events.Count, e.Message.TrimEnd('.'));
            }

            return true;
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

    // Once per spell of failures (and when the reason changes), not every flush interval.
    [LoggerMessage(EventId = 300, Level = LogLevel.Error,
        Message = "Could not write {Hosts} hosts and {Events} events to the store {Store}: {Reason}; keeping them in memory and trying again every flush")]
    private static partial void LogFlushFailed(ILogger logger, string store, int hosts, int events, string reason);

    [LoggerMessage(EventId = 301, Level = LogLevel.Error,
        Message = "{Reason}. Writing all {Hosts} hosts to it again; events and address history from before are only in the file that was there")]
    private static partial void LogStoreReplaced(ILogger logger, string reason, int hosts);

    [LoggerMessage(EventId = 302, Level = LogLevel.Critical,
        Message = "The store {Store} could not be written before exit: the latest state of {Hosts} hosts and {Events} events is lost (the heartbeat log has every beat)")]
    private static partial void LogLostAtExit(ILogger logger, string store, int hosts, int events);
}
