using Heartbeat.Server.Logging;

namespace Heartbeat.Server.Hosts;

/// <summary>Looks for hosts past their deadline a few times a second and writes their down events to the heartbeat log.</summary>
internal sealed partial class LivenessMonitor(
    HostRegistry registry, HeartbeatLog log, HostsOptions options, TimeProvider time, ILogger<LivenessMonitor> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.SweepInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
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

    [LoggerMessage(EventId = 200, Level = LogLevel.Error, Message = "Liveness sweep failed; trying again on the next tick")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
