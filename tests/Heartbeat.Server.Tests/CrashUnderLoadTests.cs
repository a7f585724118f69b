using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Heartbeat.Server.Tests;

/// <summary>
/// kill -9 at moments nobody chose, while pings with bodies pour in: no acknowledged beat is missing from the log, no
/// line is torn, and after a restart the store has every host's state as acknowledged before the last flush that
/// finished before the kill began. That is the README's window (a flush interval, plus the flush in progress when the
/// beat came and the one that writes it), measured from the server's own metrics instead of guessed: on a busy
/// machine the flush running at the kill can be slower than any seen before it.
/// </summary>
public sealed class CrashUnderLoadTests
{
    private const int Hosts = 1_000;
    private const int Workers = 8;
    private static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(250);

    // How often the flush metrics are read while the load runs: often enough that the last read is close to the kill.
    private static readonly TimeSpan ScrapeEvery = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task KillNineAtRandomMomentsUnderPingLoadWithBodiesLosesNoAcknowledgedBeatAndNoStateOlderThanTheWindow()
    {
        using var directory = new TempDirectory();
        var log = directory.File("heartbeat.log");
        var seed = Environment.TickCount;
        var random = new Random(seed);
        TestContext.Current.TestOutputHelper?.WriteLine($"seed {seed}");
        var acknowledged = new ConcurrentDictionary<string, Acknowledgement>(StringComparer.Ordinal);
        for (var round = 0; round < 3; round++)
        {
            using var server = Start(directory);
            var port = await server.WaitForStartAsync(log, earlierStarts: round);
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            if (round > 0)
            {
                await AssertStoredAsync(http, acknowledged);
            }

            // From here on, counted from what the server restored: beats lost within the window are gone for good.
            var restored = await StoredAsync(http);
            acknowledged.Clear();
            foreach (var (host, count) in restored)
            {
                acknowledged[host] = new Acknowledgement(count, 0, 0, null, null);
            }

            // Load, then a kill at a random moment 1 to 3 s in, with what the last finished flush surely wrote.
            using var load = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var beats = Task.WhenAll(Enumerable.Range(0, Workers).Select(worker => BeatAsync(http, worker, round, acknowledged, load.Token)));
            var killAt = Stopwatch.GetTimestamp() + (long)(Stopwatch.Frequency * (1 + (random.NextDouble() * 2)));
            var written = (Before: long.MinValue, SlowestFlush: TimeSpan.Zero);
            while (Stopwatch.GetTimestamp() < killAt)
            {
                var now = await WrittenBeforeAsync(http);
                if (now.Before > written.Before)
                {
                    written = now;
                }

                await Task.Delay(ScrapeEvery, TestContext.Current.CancellationToken);
            }

            Assert.True(written.Before != long.MinValue, "a flush finished in the second or more before the kill");
            server.KillHard();
            var killedAt = Stopwatch.GetTimestamp();
            await load.CancelAsync();
            await beats;
            TestContext.Current.TestOutputHelper?.WriteLine(
                $"round {round}: {acknowledged.Count} hosts, slowest flush up to {written.SlowestFlush.TotalMilliseconds} ms, "
                + $"beats acknowledged up to {Stopwatch.GetElapsedTime(written.Before, killedAt).TotalMilliseconds:F0} ms before the kill are settled "
                + $"(README's window: {(FlushInterval + (2 * written.SlowestFlush)).TotalMilliseconds} ms)");

            AssertLogWhole(log, acknowledged);
            foreach (var (host, ack) in acknowledged)
            {
                acknowledged[host] = ack.Settle(written.Before);
            }
        }

        using (var last = Start(directory))
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{await last.WaitForStartAsync(log, earlierStarts: 3)}") };
            await AssertStoredAsync(http, acknowledged);
        }
    }

    private static ChildProcess Start(TempDirectory directory) => ServerProcess.Start(
        ["0", "--bind", "127.0.0.1", "--log-file", directory.File("heartbeat.log"), "--data", directory.File("heartbeat.db"), "--rate-limit", "0", "--host-rate-limit", "0", "--max-new-hosts-per-minute", "0"],
        new Dictionary<string, string> { ["HEARTBEAT_STORE"] = "sqlite" });

    // Pings for every host in turn, with a body each: the same for even hosts, new in every round for odd ones.
    private static async Task BeatAsync(HttpClient http, int worker, int round, ConcurrentDictionary<string, Acknowledgement> acknowledged, CancellationToken stop)
    {
        for (var beat = 0; !stop.IsCancellationRequested && beat < 100_000; beat++)
        {
            var index = ((beat * Workers) + worker) % Hosts;
            var host = $"host-{index}";
            var body = index % 2 == 0 ? $"backup of {host} done\n{new string('=', 4000)}" : $"report {round}.{beat} of {host}\n{new string('-', 4000)}";
            try
            {
                using var response = await http.PostAsync($"/ping/{host}", new StringContent(body, Encoding.UTF8, "text/plain"), stop);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
            {
                return; // the server was killed: this one was never acknowledged
            }

            var answered = Stopwatch.GetTimestamp();
            acknowledged.AddOrUpdate(host, _ => new Acknowledgement(1, 0, answered, body, null), (_, ack) => ack with { Beats = ack.Beats + 1, LastAnsweredAt = answered, LastBody = body });
        }
    }

    private static void AssertLogWhole(string log, ConcurrentDictionary<string, Acknowledgement> acknowledged)
    {
        var text = File.ReadAllText(log);
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        var logged = HeartbeatLogFile.HeartbeatMessages(log).GroupBy(m => m[(m.LastIndexOf(' ') + 1)..], StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count());
        Assert.All(acknowledged, a => Assert.True(logged.GetValueOrDefault(a.Key) >= a.Value.Beats, $"{a.Key}: {a.Value.Beats} acknowledged, {logged.GetValueOrDefault(a.Key)} logged"));
    }

    // Every beat acknowledged before the window is counted in the stored host, and its body is the one last acknowledged then.
    private static async Task AssertStoredAsync(HttpClient http, ConcurrentDictionary<string, Acknowledgement> acknowledged)
    {
        var stored = await StoredAsync(http);
        Assert.All(acknowledged.Where(a => a.Value.SettledBeats > 0), a =>
        {
            Assert.True(stored.TryGetValue(a.Key, out var beats), $"{a.Key} is stored");
            Assert.True(beats >= a.Value.SettledBeats, $"{a.Key}: {beats} beats stored, {a.Value.SettledBeats} acknowledged before the window");
        });
        foreach (var (id, ack) in acknowledged.Where(a => a.Value.SettledBody is not null && stored[a.Key] == a.Value.SettledBeats).Take(50))
        {
            using var host = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/hosts/{id}", TestContext.Current.CancellationToken));
            Assert.Equal(ack.SettledBody, host.RootElement.GetProperty("lastBody").GetProperty("text").GetString());
        }
    }

    // Each stored host's count of beats.
    private static async Task<Dictionary<string, long>> StoredAsync(HttpClient http)
    {
        using var page = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/hosts?limit={Hosts}", TestContext.Current.CancellationToken));
        return page.RootElement.GetProperty("hosts").EnumerateArray()
            .ToDictionary(h => h.GetProperty("id").GetString()!, h => h.GetProperty("beats").GetInt64(), StringComparer.Ordinal);
    }

    // A moment (a Stopwatch timestamp) before which every acknowledged beat is in the store: the last finished flush
    // (heartbeat_store_last_write_timestamp_seconds) wrote what it drained when it began, at most the slowest flush
    // (the upper bound of the highest bucket of heartbeat_store_flush_seconds that holds one) before it finished.
    private static async Task<(long Before, TimeSpan SlowestFlush)> WrittenBeforeAsync(HttpClient http)
    {
        var scrape = await http.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        var (readAt, readAtUtc) = (Stopwatch.GetTimestamp(), DateTimeOffset.UtcNow);
        var lastWrite = scrape.Split('\n').Where(line => line.StartsWith("heartbeat_store_last_write_timestamp_seconds ", StringComparison.Ordinal))
            .Select(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture)).Single();
        if (lastWrite == 0)
        {
            return (long.MinValue, TimeSpan.Zero); // nothing written yet
        }

        var slowest = SlowestFlush(scrape);
        var drainedAgo = readAtUtc - DateTimeOffset.FromUnixTimeMilliseconds((long)(lastWrite * 1000)) + slowest;
        return (readAt - (long)(drainedAgo.TotalSeconds * Stopwatch.Frequency), slowest);
    }

    private static TimeSpan SlowestFlush(string scrape)
    {
        var buckets = scrape.Split('\n')
            .Where(line => line.StartsWith("heartbeat_store_flush_seconds_bucket{", StringComparison.Ordinal) && !line.Contains("+Inf", StringComparison.Ordinal))
            .Select(line => (Le: double.Parse(line.Split('"')[1], CultureInfo.InvariantCulture), Count: double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture)))
            .ToList();
        var total = scrape.Split('\n').Where(line => line.StartsWith("heartbeat_store_flush_seconds_count ", StringComparison.Ordinal))
            .Select(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture)).FirstOrDefault();
        var bound = buckets.Where(b => b.Count >= total).Select(b => b.Le).DefaultIfEmpty(double.NaN).Min();
        return double.IsNaN(bound) ? TimeSpan.FromSeconds(buckets.Max(b => b.Le) * 2) : TimeSpan.FromSeconds(bound);
    }

    // What a host had acknowledged: in all, and (settled) before the last finished flush began, which the store must have.
    private sealed record Acknowledgement(long Beats, long SettledBeats, long LastAnsweredAt, string? LastBody, string? SettledBody)
    {
        public override string ToString() => $"{Beats} beats, {SettledBeats} settled";

        // Its beats are settled when the last of them was answered before the cut-off (so were all the others).
        public Acknowledgement Settle(long cutoff) => LastAnsweredAt <= cutoff ? this with { SettledBeats = Beats, SettledBody = LastBody } : this;
    }
}
