using System.Collections.Concurrent;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Ingest;

namespace Heartbeat.Server.Storage;

/// <summary>
/// The ledger of a server in a fleet: it only queues what happens to hosts. <see cref="FleetSync"/> applies the queue
/// to the shared store every flush, with the rows locked, and logs the events that result. A beat is acknowledged
/// once its line is in this server's log; a request that needs an answer (is the host known?) waits for its flush.
/// </summary>
internal sealed class FleetLedger(TimeProvider time) : IHostLedger
{
    private readonly ConcurrentQueue<FleetChange> _changes = new();

    public IReadOnlyList<HostEvent> RecordBeat(ReceivedHeartbeat heartbeat, string peer)
    {
        _changes.Enqueue(new FleetBeat(HostRegistry.IdentityOf(heartbeat, peer), heartbeat, peer, time.GetUtcNow()));
        return [];
    }

    public async Task<IReadOnlyList<HostEvent>?> SetMaintenanceAsync(string id, TimeSpan window) =>
        await CommandAsync(id, registry => registry.SetMaintenance(id, window) is not null) ? [] : null;

    public Task<bool> RecordStartAsync(string id, PingBody? body) => CommandAsync(id, registry => registry.RecordStart(id, body));

    public Task<bool> RecordLogAsync(string id, PingBody body) => CommandAsync(id, registry => registry.RecordLog(id, body));

    public Task<bool> ForgetAsync(string id) => CommandAsync(id, registry => registry.Forget(id));

    /// <summary>Moves everything queued so far, in order, to the end of <paramref name="changes"/>.</summary>
    public void DrainInto(List<FleetChange> changes)
    {
        while (_changes.TryDequeue(out var change))
        {
            changes.Add(change);
        }
    }

    private Task<bool> CommandAsync(string id, Func<HostRegistry, bool> apply)
    {
        var command = new FleetCommand(id, apply);
        _changes.Enqueue(command);
        return command.Done.Task;
    }
}

/// <summary>A change to one host, waiting for the next flush.</summary>
internal abstract record FleetChange(string HostId);

internal sealed record FleetBeat(string HostId, ReceivedHeartbeat Heartbeat, string Peer, DateTimeOffset At) : FleetChange(HostId);

/// <summary>A change applied to the host as the store has it; <see cref="Done"/> says whether the host was known.</summary>
internal sealed record FleetCommand(string HostId, Func<HostRegistry, bool> Apply) : FleetChange(HostId)
{
    public TaskCompletionSource<bool> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
