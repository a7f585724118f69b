using System.Diagnostics;
using Heartbeat.Server.Diagnostics;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Logging;
using Heartbeat.Server.Notify;
using Heartbeat.Server.Web;

namespace Heartbeat.Server.Storage;

/// <summary>
/// Keeps a fleet server and the shared store in step, every flush interval:
/// <list type="number">
/// <item>applies this server's queued changes to the hosts' rows, locked, with the same state machine a lone server
/// uses, so whichever server a beat reaches decides its recovery, exactly once;</item>
/// <item>sweeps: takes the hosts due for a look that no other server holds and judges them, so each goes down (and
/// alerts) exactly once however many servers sweep;</item>
/// <item>reads what the other servers wrote, so that this one's page and API show the whole fleet.</item>
/// </list>
/// Events are logged by the server that decided them; alerts go into the shared outbox in the same transaction.
/// </summary>
internal sealed partial class FleetSync(
    PostgresHostStore store,
    FleetLedger ledger,
    HostRegistry registry,
    HostEventFeed feed,
    HeartbeatLog log,
    Notifiers notifiers,
    HostsOptions hostsOptions,
    StoreOptions options,
    TimeProvider time,
    ServerMetrics metrics,
    ILogger<FleetSync> logger) : BackgroundService, IHostedLifecycleService
{
    /// <summary>A sweep finding the fleet's last one longer ago than this knows every server stood still (or was down).</summary>
    private static readonly TimeSpan PauseThreshold = TimeSpan.FromSeconds(5);

    private const int SweepLimit = 10_000;

    private readonly SemaphoreSlim _round = new(1, 1);
    private readonly Dictionary<long, DateTimeOffset> _published = [];

    // The changes of the flush in progress, kept until written (a failed flush is retried with the next, in order).
    // One list for the server's lifetime: at thousands of beats a flush, a new one each time would land on the large-object heap.
    private readonly List<FleetChange> _changes = [];
    private ulong _cursor;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>After the web server has drained: whatever it acknowledged goes to the store.</summary>
    public Task StoppedAsync(CancellationToken cancellationToken) => RoundAsync(sweep: false, CancellationToken.None);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _cursor = store.LoadCursor;
        using var timer = new PeriodicTimer(options.FlushInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await RoundAsync(sweep: true, CancellationToken.None);
        }
    }

    private async Task RoundAsync(bool sweep, CancellationToken cancellationToken)
    {
        await _round.WaitAsync(cancellationToken);
        try
        {
            await FlushAsync(cancellationToken);
            if (sweep)
            {
                await SweepAsync(cancellationToken);
                await ReadUpdatesAsync(cancellationToken);
            }
        }
#pragma warning disable CA1031 // The store may be away for a while: every step is tried again on the next round.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogRoundFailed(logger, _changes.Count, e);
        }
        finally
        {
            _round.Release();
        }
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        ledger.DrainInto(_changes);
        if (_changes.Count == 0)
        {
            return;
        }

        var started = Stopwatch.GetTimestamp();
        var now = time.GetUtcNow();
        await using var transaction = await store.BeginChangesAsync(
            [.. _changes.OfType<FleetBeat>().Select(c => c.HostId).Distinct()],
            [.. _changes.OfType<FleetCommand>().Select(c => c.HostId).Distinct()],
            now,
            cancellationToken);
        var hosts = WorkingCopy(transaction.Hosts);
        var answers = new List<(FleetCommand Command, bool Known)>();
        foreach (var change in _changes)
        {
            switch (change)
            {
                case FleetBeat beat:
                    hosts.Replay(beat.Heartbeat, beat.Peer, beat.At);
                    break;
                case FleetCommand command:
                    answers.Add((command, command.Apply(hosts)));
                    break;
            }
        }

        await CommitAsync(transaction, hosts.DrainChanges(), now, cancellationToken);
        _changes.Clear();
        metrics.StoreFlushSeconds.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        foreach (var (command, known) in answers)
        {
            command.Done.TrySetResult(known);
        }
    }

    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var transaction = await store.BeginSweepAsync(now, PauseThreshold, SweepLimit, cancellationToken);
        if (transaction.Paused is { } paused)
        {
            LogFleetPaused(logger, paused.TotalSeconds);
        }

        if (transaction.Hosts.Count == 0)
        {
            await transaction.Transaction.CommitAsync(cancellationToken);
            return;
        }

        var hosts = WorkingCopy(transaction.Hosts);
        hosts.Sweep();
        await CommitAsync(transaction, hosts.DrainChanges(), now, cancellationToken);
    }

    private async Task ReadUpdatesAsync(CancellationToken cancellationToken)
    {
        var updates = await store.ReadUpdatesAsync(_cursor, cancellationToken);
        registry.Adopt(updates.Hosts, updates.Forgotten);
        foreach (var e in updates.Events)
        {
            if (_published.TryAdd(e.Id, time.GetUtcNow()))
            {
                feed.Publish(e);
            }
        }

        _cursor = updates.Cursor;
        var forgetBefore = time.GetUtcNow() - TimeSpan.FromMinutes(5);
        foreach (var (id, at) in _published.Where(p => p.Value < forgetBefore).ToList())
        {
            _published.Remove(id);
        }
    }

    /// <summary>Writes what the working copy decided, then tells this server: its copy of the hosts, the log, the live feed.</summary>
    private async Task CommitAsync(FleetTransaction transaction, HostChanges changes, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var queued = 0;
        var events = await transaction.CommitAsync(
            changes,
            stored =>
            {
                var notifications = notifiers.Route([.. stored.Where(e => !e.Silenced)], now);
                queued = notifications.Count;
                return notifications;
            },
            cancellationToken);

        registry.Adopt(changes.Hosts, changes.Forgotten);
        foreach (var e in events)
        {
            metrics.Events.WithLabels(ApiNames.Of(e.Kind)).Inc();
            _published[e.Id] = now;
            feed.Publish(e);
        }

        if (events.Count > 0)
        {
            await log.AppendAsync([.. events.Select(e => e.Summary)]);
        }

        if (queued > 0)
        {
            notifiers.Queued();
        }
    }

    /// <summary>A registry over the locked rows: the lone server's state machine, run on the fleet's hosts as they stand.</summary>
    private HostRegistry WorkingCopy(IReadOnlyList<HostSnapshot> hosts)
    {
        var copy = new HostRegistry(time, hostsOptions, new HostEventFeed());
        copy.Restore(hosts, lastEventId: 0, afterRestart: false);
        return copy;
    }

    [LoggerMessage(EventId = 310, Level = LogLevel.Error, Message = "Could not sync with the fleet store ({Changes} changes waiting); trying again on the next round")]
    private static partial void LogRoundFailed(ILogger logger, int changes, Exception exception);

    [LoggerMessage(EventId = 311, Level = LogLevel.Warning, Message = "The whole fleet stood still for {Seconds:0.0} s (no server swept); every host's deadline moves by as much")]
    private static partial void LogFleetPaused(ILogger logger, double seconds);
}
