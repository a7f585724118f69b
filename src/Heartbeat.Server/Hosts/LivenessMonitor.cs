using System.Diagnostics;

namespace Heartbeat.Server.Hosts;

// Looks for hosts past their deadline a few times a second (their events go to the sink from the registry).
internal sealed partial class LivenessMonitor(
    HostRegistry registry, HostsOptions options, TimeProvider time, ILogger<LivenessMonitor> logger) : BackgroundService
{
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
                if (gap > Liveness.PauseThreshold)
                {
                    registry.ExtendDeadlines(gap - options.SweepInterval);
                    LogPaused(logger, gap.TotalSeconds);
                }

                await registry.SweepAsync();
                registry.Index.UnpinExpired();
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
