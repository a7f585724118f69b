using System.Diagnostics;
using Heartbeat.Server.Diagnostics;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Notify;
using Heartbeat.Server.Web;

namespace Heartbeat.Server.Storage;

/// <summary>
/// Write-behind from the registry to the store: every flush interval, everything that changed goes out
/// in one transaction, each host once, together with the notifications its events call for. A failed write is kept and retried with the next batch; the last
/// flush runs after the web server has drained, so nothing it acknowledged is left in memory.
/// </summary>
internal sealed partial class StoreFlusher(
    HostRegistry registry, SqliteHostStore store, Notifiers notifiers, StoreOptions options, TimeProvider time, ServerMetrics metrics, ILogger<StoreFlusher> logger)
    : BackgroundService, IHostedLifecycleService
{
    private readonly SemaphoreSlim _flushing = new(1, 1);
    private HostChanges? _unwritten;

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _flushing.WaitAsync(cancellationToken);
        try
        {
            var changes = registry.DrainChanges();
            foreach (var e in changes.Events)
            {
                metrics.Events.WithLabels(ApiNames.Of(e.Kind)).Inc();
            }

            // Silenced (maintenance) and held (site outage) events alert nobody now; held ones may come back as released.
            IReadOnlyList<HostEvent> alerting = [.. changes.Released, .. changes.Events.Where(e => !e.Silenced && !e.Held)];
            changes = changes with { Notifications = notifiers.Route(alerting, time.GetUtcNow()) };
            if (_unwritten is { } earlier)
            {
                changes = Merge(earlier, changes);
            }

            if (changes.IsEmpty)
            {
                return;
            }

            try
            {
                var started = Stopwatch.GetTimestamp();
                await store.WriteAsync(changes, cancellationToken);
                metrics.StoreFlushSeconds.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
                _unwritten = null;
                if (changes.Notifications.Count > 0)
                {
                    notifiers.Queued();
                }
            }
#pragma warning disable CA1031 // Whatever went wrong (disk full, database locked), the batch is kept for the next try.
            catch (Exception e)
#pragma warning restore CA1031
            {
                _unwritten = changes;
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

    /// <summary>An unwritten batch followed by a newer one: newer host states win; events keep their order.</summary>
    private static HostChanges Merge(HostChanges earlier, HostChanges later)
    {
        var hosts = earlier.Hosts.Where(h => !later.Forgotten.Contains(h.Id)).ToDictionary(h => h.Id, StringComparer.Ordinal);
        foreach (var host in later.Hosts)
        {
            hosts[host.Id] = host;
        }

        return new HostChanges(
            [.. hosts.Values],
            [.. earlier.Events, .. later.Events],
            [.. earlier.AddressChanges, .. later.AddressChanges],
            [.. earlier.Forgotten, .. later.Forgotten])
        {
            Notifications = [.. earlier.Notifications, .. later.Notifications],
        };
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Error, Message = "Could not write {Hosts} hosts and {Events} events to the store; keeping them for the next try")]
    private static partial void LogFlushFailed(ILogger logger, int hosts, int events, Exception exception);
}
