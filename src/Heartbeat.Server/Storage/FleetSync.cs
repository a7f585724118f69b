using System.Diagnostics;
using Heartbeat.Server.Diagnostics;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Notify;

namespace Heartbeat.Server.Storage;

// Keeps a fleet server and the shared store in step, every flush interval:
// - applies this server's queued changes to the hosts' rows, locked, with the same state machine a lone server
// uses, so whichever server a beat reaches decides its recovery, exactly once;
// - sweeps: takes the hosts due for a look that no other server holds and judges them, so each goes down (and
// alerts) exactly once however many servers sweep;
// - reads what the other servers wrote, so that this one's page and API show the whole fleet.
// Events go to the event sink of the server that decided them; alerts go into the shared outbox in the same transaction.
internal sealed partial class FleetSync(
    PostgresHostStore store,
    FleetLedger ledger,
    HostRegistry registry,
    HostTransitions transitions,
    HostEventSink sink,
    Notifiers notifiers,
    StoreOptions options,
    TimeProvider time,
    ServerMetrics metrics,
    ILogger<FleetSync> logger) : BackgroundService, IHostedLifecycleService, IStoreWriter
{
    private const int SweepLimit = 10_000;

    private readonly SemaphoreSlim _round = new(1, 1);
    private readonly Dictionary<long, DateTimeOffset> _published = [];
    private readonly WriteHealth _health = new(time);

    // The changes of the flush in progress, kept until written (a failed flush is retried with the next, in order).
    // One list for the server's lifetime: at thousands of beats a flush, a new one each time would land on the large-object heap.
    private readonly List<FleetChange> _changes = [];
    private ulong _cursor;

    public WriteStatus Status => _health.Status;

    public Task FlushAsync(CancellationToken cancellationToken) => RoundAsync(sweep: false, cancellationToken);

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    // After the web server has drained: whatever it acknowledged goes to the store.
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
            await ApplyQueuedAsync(cancellationToken);
            if (sweep)
            {
                await SweepAsync(cancellationToken);
                await ReadUpdatesAsync(cancellationToken);
                registry.Index.UnpinExpired();
            }

            _health.Succeeded();
        }
#pragma warning disable CA1031 // The store may be away for a while: every step is tried again on the next round.
        catch (Exception e)
#pragma warning restore CA1031
        {
            metrics.StoreWriteErrors.Inc();
            if (_health.Failed(e.Message))
            {
                LogRoundFailed(logger, store.Description, _changes.Count, e.Message);
            }
        }
        finally
        {
            _round.Release();
        }
    }

    private async Task ApplyQueuedAsync(CancellationToken cancellationToken)
    {
        ledger.DrainInto(_changes);
        if (_changes.Count == 0)
        {
            return;
        }

        var started = Stopwatch.GetTimestamp();
        var now = Now.FromWall(time.GetUtcNow());
        HostChanges changes;
        List<(FleetCommand Command, bool Known)> answers;
        await using (var transaction = await store.BeginChangesAsync(
            [.. _changes.Where(c => c is FleetBeat or FleetCommand { Kind: FleetCommandKind.Expect }).Select(c => c.HostId).Distinct()],
            [.. _changes.OfType<FleetCommand>().Select(c => c.HostId).Distinct()],
            now.Wall,
            cancellationToken))
        {
            (changes, answers) = Apply(transaction.Hosts, now);
            await CommitAsync(transaction, changes, now, cancellationToken);
        }

        ledger.Written(_changes.Count);
        _changes.Clear();
        metrics.StoreFlushSeconds.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        foreach (var (command, known) in answers)
        {
            command.Done.TrySetResult(known);
        }

        await sink.PublishStoredAsync(changes.Events);
    }

    // This server's queued changes, in order, on the locked rows: the lone server's transitions, run on the fleet's hosts.
    private (HostChanges Changes, List<(FleetCommand, bool)> Answers) Apply(IReadOnlyList<HostRecord> locked, Now now)
    {
        var hosts = locked.ToDictionary(h => h.Id, StringComparer.Ordinal);
        var bodies = locked.ToDictionary(h => h.Id, h => h.LastBody, StringComparer.Ordinal);
        foreach (var host in locked)
        {
            host.PlaceOnClock(now);
        }

        var changed = new Dictionary<string, HostRecord>(StringComparer.Ordinal);
        var outcome = new HostOutcome();
        var forgotten = new List<string>();
        var answers = new List<(FleetCommand, bool)>();
        foreach (var change in _changes)
        {
            if (change is FleetBeat beat)
            {
                // A host forgotten earlier in this round starts afresh.
                var host = hosts.TryGetValue(beat.HostId, out var known) ? known : hosts[beat.HostId] = new HostRecord(beat.HostId);
                if (!HostTransitions.CountIfOutrun(host, beat.At))
                {
                    transitions.Beat(host, beat.Heartbeat, beat.Peer, Now.FromWall(beat.At), outcome);
                }

                changed[host.Id] = host;
            }
            else if (change is FleetCommand command)
            {
                var known = hosts.TryGetValue(command.HostId, out var host);
                answers.Add((command, command.Kind == FleetCommandKind.Expect ? known && HostTransitions.Expect(host!, now) : known));
                if (host is null)
                {
                    continue;
                }

                switch (command.Kind)
                {
                    case FleetCommandKind.Configure or FleetCommandKind.Expect:
                        HostTransitions.Configure(host, command.Settings!);
                        break;
                    case FleetCommandKind.Maintenance:
                        transitions.SetMaintenance(host, command.Window, now, outcome);
                        break;
                    case FleetCommandKind.Start:
                        HostTransitions.Start(host, command.Body, now);
                        break;
                    case FleetCommandKind.Log:
                        HostTransitions.Log(host, command.Body!);
                        break;
                    case FleetCommandKind.Forget:
                        // Its history goes with it, what this round made of it so far included.
                        hosts.Remove(host.Id);
                        changed.Remove(host.Id);
                        outcome.Events.RemoveAll(e => e.HostId == host.Id);
                        outcome.AddressChanges.RemoveAll(c => c.HostId == host.Id);
                        forgotten.Add(host.Id);
                        continue;
                }

                changed[host.Id] = host;
            }
        }

        // A body no change of this round replaced is in the store already.
        var sameBodies = locked.Where(h => changed.TryGetValue(h.Id, out var host) && ReferenceEquals(host, h) && ReferenceEquals(h.LastBody, bodies[h.Id]))
            .Select(h => h.Id).ToHashSet(StringComparer.Ordinal);
        // Events are not folded: the fleet's store numbers each one for this server's log and live listeners.
        var changes = new HostChanges([.. changed.Values.Select(h => WithDueTime(h, now))], outcome.Events, FlushCoalescing.AddressChanges(outcome.AddressChanges), forgotten)
        {
            SameBodies = sameBodies,
        };
        return (changes, answers);
    }

    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        var now = Now.FromWall(time.GetUtcNow());
        HostChanges changes;
        await using (var transaction = await store.BeginSweepAsync(now.Wall, Liveness.PauseThreshold, registry.DueBy(now.Wall, SweepLimit), cancellationToken))
        {
            if (transaction.Paused is { } paused)
            {
                LogFleetPaused(logger, paused.TotalSeconds);
            }

            if (transaction.Hosts.Count == 0)
            {
                await transaction.Transaction.CommitAsync(cancellationToken);
                return;
            }

            var outcome = new HostOutcome();
            foreach (var host in transaction.Hosts)
            {
                host.PlaceOnClock(now);
                if (host.State != HostState.Down && transitions.Deadline(host) <= now.Mono)
                {
                    transitions.Sweep(host, now, outcome);
                }
            }

            // A sweep changes no ping body.
            changes = new HostChanges([.. transaction.Hosts.Select(h => WithDueTime(h, now))], outcome.Events, [], [])
            {
                SameBodies = transaction.Hosts.Select(h => h.Id).ToHashSet(StringComparer.Ordinal),
            };
            await CommitAsync(transaction, changes, now, cancellationToken);
        }

        await sink.PublishStoredAsync(changes.Events);
    }

    private async Task ReadUpdatesAsync(CancellationToken cancellationToken)
    {
        var updates = await store.ReadUpdatesAsync(_cursor, cancellationToken);
        registry.Mirror(updates.Hosts, updates.Forgotten);
        sink.Show([.. updates.Events.Where(e => _published.TryAdd(e.Id, time.GetUtcNow()))]);
        _cursor = updates.Cursor;
        var forgetBefore = time.GetUtcNow() - TimeSpan.FromMinutes(5);
        foreach (var (id, at) in _published.Where(p => p.Value < forgetBefore).ToList())
        {
            _published.Remove(id);
        }
    }

    // Writes what this server decided, with the alerts of its events, then takes the result into its copy of the hosts.
    private async Task CommitAsync(FleetTransaction transaction, HostChanges changes, Now now, CancellationToken cancellationToken)
    {
        var queued = 0;
        await transaction.CommitAsync(
            changes,
            stored =>
            {
                var notifications = notifiers.Route(stored, released: [], now.Wall);
                queued = notifications.Count;
                return notifications;
            },
            cancellationToken);

        registry.Mirror(changes.Hosts, changes.Forgotten);
        foreach (var e in changes.Events)
        {
            _published[e.Id] = now.Wall;
        }

        if (queued > 0)
        {
            notifiers.Queued();
        }
    }

    // The host as the store keeps it, with the moment a sweep must look at it next (none once it is down).
    private HostRecord WithDueTime(HostRecord host, Now now)
    {
        host.DueAt = host.State == HostState.Down ? null : now.WallAt(transitions.Deadline(host));
        return host;
    }

    // Once per spell of failures (and when the reason changes), not every round.
    [LoggerMessage(EventId = 310, Level = LogLevel.Error, Message = "Could not sync with the fleet store {Store} ({Changes} changes waiting): {Reason}; trying again every round")]
    private static partial void LogRoundFailed(ILogger logger, string store, int changes, string reason);

    [LoggerMessage(EventId = 311, Level = LogLevel.Warning, Message = "The whole fleet stood still for {Seconds:0.0} s (no server swept); every host's deadline moves by as much")]
    private static partial void LogFleetPaused(ILogger logger, double seconds);
}
