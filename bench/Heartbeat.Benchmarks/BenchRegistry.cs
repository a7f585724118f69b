using Heartbeat.Server.Diagnostics;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Heartbeat.Benchmarks;

/// <summary>A lone server's registry as the server wires it, its heartbeat log going to /dev/null (never rotated).</summary>
internal sealed class BenchRegistry : IAsyncDisposable
{
    public BenchRegistry(TimeProvider time)
    {
        var metrics = new ServerMetrics();
        var clock = new HostClock(time);
        Transitions = new HostTransitions(new HostsOptions(), new EventLines(TimeZoneInfo.Utc));
        Changes = new ChangeQueue(Transitions, clock);
        Log = new HeartbeatLog(new HeartbeatLogOptions { Path = "/dev/null", MaxSizeBytes = 0 }, time, metrics, NullLogger<HeartbeatLog>.Instance);
        var bodies = new PingBodies(new HostsOptions(), metrics, NullLogger<PingBodies>.Instance);
        Registry = new HostRegistry(clock, Transitions, Changes, new HostEventSink(new HostEventFeed(), Changes, Log, metrics), bodies);
    }

    public HostTransitions Transitions { get; }

    public ChangeQueue Changes { get; }

    public HeartbeatLog Log { get; }

    public HostRegistry Registry { get; }

    public ValueTask DisposeAsync() => Log.DisposeAsync();
}
