using System.Collections.Concurrent;
using Heartbeat.Server.Hosts;

namespace Heartbeat.Server.Storage;

// The ledger of a server in a fleet: it only queues what happens to hosts. FleetSync applies the queue
// to the shared store every flush, with the rows locked, and publishes the events that result. A beat is acknowledged
// once its line is in this server's log; a request that needs an answer (is the host known?) waits for its flush.
internal sealed partial class FleetLedger(StoreOptions options, TimeProvider time, ILogger<FleetLedger> logger) : IHostLedger
{
    private readonly ConcurrentQueue<FleetChange> _changes = new();

    // Changes queued here or held by FleetSync until written: bounded by --fleet-max-waiting.
    private int _waiting;
    private int _full; // 1 from the moment the bound was reached until the queue has caught up

    public string? WhyNotNow()
    {
        var waiting = Volatile.Read(ref _waiting);
        if (waiting < options.FleetMaxWaiting)
        {
            return null;
        }

        if (Interlocked.Exchange(ref _full, 1) == 0)
        {
            LogFull(logger, waiting, options.FleetMaxWaiting);
        }

        return $"{waiting} changes wait for the fleet's database, this server's limit (--fleet-max-waiting {options.FleetMaxWaiting}): "
            + "beats are refused until the database answers again. Try again later.";
    }

    public Task RecordBeatAsync(ReceivedHeartbeat heartbeat, string peer)
    {
        Enqueue(new FleetBeat(HostRegistry.IdentityOf(heartbeat, peer), heartbeat, peer, time.GetUtcNow()));
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

    // So many changes drained earlier are in the store now.
    public void Written(int count)
    {
        // Caught up once a tenth of the room is free again, so a queue at its bound does not flap in the log.
        if (Interlocked.Add(ref _waiting, -count) < options.FleetMaxWaiting * 9 / 10 && Interlocked.Exchange(ref _full, 0) == 1)
        {
            LogCaughtUp(logger);
        }
    }

    private void Enqueue(FleetChange change)
    {
        Interlocked.Increment(ref _waiting);
        _changes.Enqueue(change);
    }

    private Task<bool> CommandAsync(FleetCommand command)
    {
        Enqueue(command);
        return command.Done.Task;
    }

    [LoggerMessage(EventId = 312, Level = LogLevel.Warning,
        Message = "{Waiting} changes wait for the fleet's database (--fleet-max-waiting {Limit}): beats are refused with 503 until it answers again")]
    private static partial void LogFull(ILogger logger, int waiting, int limit);

    [LoggerMessage(EventId = 313, Level = LogLevel.Information, Message = "The fleet's database has caught up with the changes that waited; beats are taken again")]
    private static partial void LogCaughtUp(ILogger logger);
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
