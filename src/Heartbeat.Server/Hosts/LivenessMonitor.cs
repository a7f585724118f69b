using System.Diagnostics;
using Heartbeat.Server.Logging;

namespace Heartbeat.Server.Hosts;

/// <summary>Looks for hosts past their deadline a few times a second and writes their down events to the heartbeat log.</summary>
internal sealed partial class LivenessMonitor(
    HostRegistry registry, HeartbeatLog log, HostsOptions options, TimeProvider time, ILogger<LivenessMonitor> logger) : BackgroundService
{
    /// <summary>A gap between sweeps this long, on the machine's own monotonic clock, means the server stood still.</summary>
    private static readonly TimeSpan PauseThreshold = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.SweepInterval, time);
        var lastTick = Stopwatch.GetTimestamp();
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                // Measured with Stopwatch, not the TimeProvider: a pause is the process not running, whatever the wall clock says.
                var gap = Stopwatch.GetElapsedTime(lastTick);
                lastTick = Stopwatch.GetTimestamp();
                if (gap > PauseThreshold)
                {
                    registry.ExtendDeadlines(gap - options.SweepInterval);
                    LogPaused(logger, gap.TotalSeconds);
                }

                var events = registry.Sweep();
                if (events.Count > 0)
                {
                    await log.AppendAsync([.. events.Select(e => e.Summary)]);
                }
            }
#pragma warning disable CA1031 // One failed sweep (say, a full disk) must not stop liveness for good.
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogSweepFailed(logger, e);
            }
        }
    }

    [LoggerMessage(EventId = 201, Level = LogLevel.Warning, Message = "The server stood still for {Seconds:0.0} s (a long pause: GC, disk, suspended machine); every host's deadline moves by as much, so nobody is judged for the server's own absence")]
    private static partial void LogPaused(ILogger logger, double seconds);

    [LoggerMessage(EventId = 200, Level = LogLevel.Error, Message = "Liveness sweep failed; trying again on the next tick")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
