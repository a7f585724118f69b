namespace Heartbeat.Agent;

// Beats forever, one at a time: every interval (±10% jitter, so a fleet started together spreads out),
// or, while the server cannot be reached, with exponential backoff capped at the interval. An outage is
// reported once when it starts and once when it ends, not at every try.
internal sealed class BeatLoop(BeatSender sender, TimeSpan every, TextWriter errors, TimeProvider time)
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        DateTimeOffset? outageSince = null;
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            TimeSpan wait;
            try
            {
                var error = await sender.SendAsync(cancellationToken);
                if (error is null)
                {
                    if (outageSince is { } since)
                    {
                        await errors.WriteLineAsync($"heartbeat: beats are getting through again, after {Format(time.GetUtcNow() - since)}.");
                        outageSince = null;
                    }

                    failures = 0;
                    wait = Jitter(every);
                }
                else
                {
                    if (outageSince is null)
                    {
                        await errors.WriteLineAsync($"heartbeat: {error}. Retrying with backoff; the next message comes when beats get through.");
                        outageSince = time.GetUtcNow();
                    }

                    failures++;
                    wait = Jitter(Backoff(failures));
                }

                await Task.Delay(wait, time, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private TimeSpan Backoff(int failures) =>
        TimeSpan.FromTicks(Math.Min(FirstRetry.Ticks << Math.Min(failures - 1, 20), every.Ticks));

    private static TimeSpan Jitter(TimeSpan interval) => interval * (0.9 + (0.2 * Random.Shared.NextDouble()));

    private static string Format(TimeSpan duration) =>
        duration.TotalSeconds < 120 ? $"{duration.TotalSeconds:0}s" : duration.TotalMinutes < 120 ? $"{duration.TotalMinutes:0}m" : $"{duration.TotalHours:0.#}h";
}
