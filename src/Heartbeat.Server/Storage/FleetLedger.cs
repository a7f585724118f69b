using System.Collections.Concurrent;
using Heartbeat.Server.Hosts;

namespace Heartbeat.Server.Storage;

// The ledger of a server in a fleet: it only queues what happens to hosts. FleetSync applies the queue
// to the shared store every flush, with the rows locked, and publishes the events that result. A beat is acknowledged
// once its line is in this server's log; a request that needs an answer (is the host known?) waits for its flush.
internal sealed class FleetLedger(TimeProvider time) : IHostLedger
{
    private readonly ConcurrentQueue<FleetChange> _changes = new();

    public Task RecordBeatAsync(ReceivedHeartbeat heartbeat, string peer)
    {
        _changes.Enqueue(new FleetBeat(HostRegistry.IdentityOf(heartbeat, peer), heartbeat, peer, time.GetUtcNow()));
        return Task.CompletedTask;
    }

    public Task<bool> SetMaintenanceAsync(string id, TimeSpan window) => CommandAsync(new FleetCommand(id, FleetCommandKind.Maintenance) { Window = window });

    public Task<bool> RecordStartAsync(string id, PingBody? body) => CommandAsync(new FleetCommand(id, FleetCommandKind.Start) { Body = body });

    public Task<bool> RecordLogAsync(string id, PingBody body) => CommandAsync(new FleetCommand(id, FleetCommandKind.Log) { Body = body });

    public Task<bool> ConfigureAsync(string id, HostSettingsChange change) => CommandAsync(new FleetCommand(id, FleetCommandKind.Configure) { Settings = change });

    public Task<bool> ExpectAsync(string id, HostSettingsChange change) => CommandAsync(new FleetCommand(id, FleetCommandKind.Expect) { Settings = change });

    public Task<bool> ForgetAsync(string id) => CommandAsync(new FleetCommand(id, FleetCommandKind.Forget));

    // Moves everything queued so far, in order, to the end of changes.
    public void DrainInto(List<FleetChange> changes)
    {
        while (_changes.TryDequeue(out var change))
        {
            changes.Add(change);
        }
    }

    private Task<bool> CommandAsync(FleetCommand command)
    {
        _changes.Enqueue(command);
        return command.Done.Task;
    }
}

// A change to one host, waiting for the next flush.
internal abstract record FleetChange(string HostId);

internal sealed record FleetBeat(string HostId, ReceivedHeartbeat Heartbeat, string Peer, DateTimeOffset At) : FleetChange(HostId);

internal enum FleetCommandKind
{
    Maintenance,
    Start,
    Log,
    Configure,

    // Creates the host's row when there is none, so its Done says whether it was new.
    Expect,
    Forget,
}

// A change applied to the host as the store has it; Done says whether the host was known (for Expect: new).
internal sealed record FleetCommand(string HostId, FleetCommandKind Kind) : FleetChange(HostId)
{
    public TimeSpan Window { get; init; }

    public PingBody? Body { get; init; }

    public HostSettingsChange? Settings { get; init; }

    public TaskCompletionSource<bool> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
