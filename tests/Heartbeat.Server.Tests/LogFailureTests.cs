using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Heartbeat.Server.Tests.Infrastructure;

namespace Heartbeat.Server.Tests;

/// <summary>
/// The log when the file system misbehaves: deleted, gone with its directory, full, or left torn by a crash.
/// A beat is acknowledged only once its line is written, a refused beat leaves no line, and /healthz says
/// whether the log can be written.
/// </summary>
public sealed class LogFailureTests
{
    [Fact]
    public async Task ADeletedLogIsRecreatedWhenHealthIsAskedAndTakesTheNextBeat()
    {
        await using var server = await InProcessServer.StartAsync();
        File.Delete(server.LogPath);

        var (status, health) = await HealthAsync(server);
        await server.BeatAsync("""{"host": "after-rm"}""");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Healthy", health.GetProperty("status").GetString());
        Assert.Equal(["Received heartbeat - From: 127.0.0.1, Reported IP: -, Host: after-rm"], server.HeartbeatMessages());
    }

    [Fact]
    public async Task ADeletedLogIsRecreatedByTheBeatsThatFollowWithinASecond()
    {
        await using var server = await InProcessServer.StartAsync();
        File.Delete(server.LogPath);

        // The writer looks for its file once a second, so the beats of that second may still go to the deleted one.
        var beat = 0;
        await Eventually.TrueAsync(
            () =>
            {
                server.BeatAsync($$"""{"host": "beat-{{beat++}}"}""").GetAwaiter().GetResult();
                return File.Exists(server.LogPath);
            },
            "the log to be recreated",
            TimeSpan.FromSeconds(3));
        await server.BeatAsync("""{"host": "settled"}""");

        Assert.EndsWith("Host: settled", server.HeartbeatMessages()[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALogThatCannotBeReopenedRefusesBeatsAndHealthSaysWhyUntilItCanBe()
    {
        using var directory = new TempDirectory();
        var logDirectory = directory.File("logs");
        Directory.CreateDirectory(logDirectory);
        await using var server = await InProcessServer.StartAsync(o => o with { Log = o.Log with { Path = Path.Combine(logDirectory, "heartbeat.log") } });
        Directory.Delete(logDirectory, recursive: true);

        var (status, health) = await HealthAsync(server);
        using var refused = await server.PostAsync("""{"host": "nowhere"}""");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        var check = health.GetProperty("checks").GetProperty("heartbeat-log");
        Assert.Equal("Unhealthy", check.GetProperty("status").GetString());
        Assert.Contains(logDirectory, check.GetProperty("lastError").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);

        Directory.CreateDirectory(logDirectory);
        await server.BeatAsync("""{"host": "back"}""");
        Assert.Equal(HttpStatusCode.OK, (await HealthAsync(server)).Status);
        Assert.Equal(["Received heartbeat - From: 127.0.0.1, Reported IP: -, Host: back"], server.HeartbeatMessages());
    }

    [Fact]
    public async Task ABeatRefusedBecauseTheLogCannotBeWrittenCreatesNoHostAndChangesNone()
    {
        using var directory = new TempDirectory();
        var logDirectory = directory.File("logs");
        Directory.CreateDirectory(logDirectory);
        await using var server = await InProcessServer.StartAsync(o => o with { Log = o.Log with { Path = Path.Combine(logDirectory, "heartbeat.log") } });
        await server.BeatAsync("""{"host": "nas", "ip": "192.168.1.10", "interval": 300}""");
        var before = await server.GetHostAsync("nas");
        Directory.Delete(logDirectory, recursive: true);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await HealthAsync(server)).Status); // the log is found gone

        using var moved = await server.PostAsync("""{"host": "nas", "ip": "192.168.1.99", "interval": 60, "status": "fail"}""");
        using var added = await server.PostAsync("""{"host": "new-box"}""");

        Assert.Equal((HttpStatusCode.ServiceUnavailable, HttpStatusCode.ServiceUnavailable), (moved.StatusCode, added.StatusCode));
        Assert.Null(await server.FindHostAsync("new-box"));
        var after = await server.GetHostAsync("nas");
        foreach (var field in new[] { "ip", "beats", "lastSeen", "intervalSeconds", "clientStatus", "ipChanges", "state" })
        {
            Assert.Equal(before.GetProperty(field).ToString(), after.GetProperty(field).ToString());
        }

        var history = (await server.GetJsonAsync("/api/v1/hosts/nas/history")).ToString();
        Assert.Contains("192.168.1.10", history, StringComparison.Ordinal);
        Assert.DoesNotContain("192.168.1.99", history, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFullDiskRefusesBeatsWith503LeavesOnlyWholeLinesOfAcknowledgedBeatsAndRecoversOnceFreed()
    {
        using var directory = new TempDirectory();
        var disk = directory.File("disk");
        await using var mount = await Tmpfs.MountAsync(disk, "256k");
        var log = Path.Combine(disk, "heartbeat.log");
        await using var server = await InProcessServer.StartAsync(o => InProcessServer.WithoutRateLimits(o) with { Log = o.Log with { Path = log } });
        var filler = Path.Combine(disk, "filler");
        Fill(filler);

        // Long host names make each line a few hundred bytes, so batches straddle the last free page.
        var results = new ConcurrentDictionary<string, HttpStatusCode>();
        await Parallel.ForEachAsync(Enumerable.Range(0, 400), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (beat, ct) =>
        {
            var host = $"beat-{beat}-{new string('x', 200)}";
            using var response = await server.PostAsync($$"""{"host": "{{host}}"}""");
            results[host] = response.StatusCode;
        });

        Assert.Contains(HttpStatusCode.ServiceUnavailable, results.Values);

        // A failed write gives back what it tore, so a short line may still fit after the burst: beat on until one is
        // refused, so that the log's last write is a failed one when health is asked.
        for (var i = 0; results.GetValueOrDefault($"after-{i - 1}") != HttpStatusCode.ServiceUnavailable; i++)
        {
            Assert.True(i < 200, "the full disk took 200 more beats");
            using var response = await server.PostAsync($$"""{"host": "after-{{i}}"}""");
            results[$"after-{i}"] = response.StatusCode;
        }

        var acknowledged = results.Where(r => r.Value == HttpStatusCode.OK).Select(r => r.Key).ToHashSet();
        Assert.All(results.Values, status => Assert.Contains(status, (HttpStatusCode[])[HttpStatusCode.OK, HttpStatusCode.ServiceUnavailable]));
        var text = await File.ReadAllTextAsync(log, TestContext.Current.CancellationToken);
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, line => Assert.Matches(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} - (Server started, |Received heartbeat - |New host - )", line));
        var logged = lines.Where(line => HeartbeatLogFile.HeartbeatLine().IsMatch(line)).Select(line => line[(line.LastIndexOf(' ') + 1)..]).ToList();
        Assert.Equal(acknowledged.Order(StringComparer.Ordinal), logged.Order(StringComparer.Ordinal));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await HealthAsync(server)).Status);
        Assert.Equal(0.0, Metric(await ScrapeAsync(server), "heartbeat_log_writable"));

        File.Delete(filler);
        Assert.Equal(HttpStatusCode.OK, (await HealthAsync(server)).Status);
        await server.BeatAsync("""{"host": "after-cleanup"}""");
        Assert.EndsWith("Host: after-cleanup", server.HeartbeatMessages()[^1], StringComparison.Ordinal);
        TestContext.Current.TestOutputHelper?.WriteLine($"full disk: {acknowledged.Count} of {results.Count} beats acknowledged, each one whole line; the rest refused with 503 and absent");
    }

    [Fact]
    public async Task AfterACrashLeftHalfALineTheNextStartWritesOnALineOfItsOwn()
    {
        using var directory = new TempDirectory();
        const string Torn = "2026-02-08 11:30:20 - Received heartbeat - From: 192.168.1.53, Repo";
        await File.WriteAllTextAsync(directory.File("heartbeat_server.log"), Torn, TestContext.Current.CancellationToken);

        await using var server = await InProcessServer.StartAsync(directory: directory);
        await server.BeatAsync("""{"host": "web1"}""");

        var lines = HeartbeatLogFile.ReadLines(server.LogPath);
        Assert.Equal(Torn, lines[0]);
        Assert.Matches(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} - Server started, listening on port \d+$", lines[1]);
        Assert.EndsWith(" - Received heartbeat - From: 127.0.0.1, Reported IP: -, Host: web1", lines[2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task HealthAndMetricsSayWhenTheLogWasLastWritten()
    {
        await using var server = await InProcessServer.StartAsync();
        await server.BeatAsync("""{"host": "web1"}""");

        var (status, health) = await HealthAsync(server);
        var metrics = await ScrapeAsync(server);

        Assert.Equal(HttpStatusCode.OK, status);
        var check = health.GetProperty("checks").GetProperty("heartbeat-log");
        Assert.Equal(server.LogPath, check.GetProperty("path").GetString());
        var lastWrite = DateTimeOffset.Parse(check.GetProperty("lastWrite").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(DateTimeOffset.UtcNow - lastWrite, TimeSpan.Zero, TimeSpan.FromMinutes(1));
        Assert.Equal(JsonValueKind.Null, check.GetProperty("lastError").ValueKind);
        Assert.Equal(1.0, Metric(metrics, "heartbeat_log_writable"));
        Assert.InRange(Metric(metrics, "heartbeat_log_last_write_timestamp_seconds"), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        Assert.Equal(0.0, Metric(metrics, "heartbeat_log_write_errors_total"));
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> HealthAsync(InProcessServer server)
    {
        using var response = await server.Client.GetAsync("/healthz", TestContext.Current.CancellationToken);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;
        return (response.StatusCode, body.Clone());
    }

    private static Task<string> ScrapeAsync(InProcessServer server) => server.Client.GetStringAsync("/metrics", TestContext.Current.CancellationToken);

    private static double Metric(string scrape, string name) => double.Parse(
        scrape.Split('\n').Single(line => line.StartsWith(name + " ", StringComparison.Ordinal))[(name.Length + 1)..],
        System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Writes until the file system has no room left.</summary>
    private static void Fill(string path)
    {
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
        var chunk = new byte[4096];
        try
        {
            while (true)
            {
                file.Write(chunk);
            }
        }
        catch (IOException)
        {
            // Full.
        }
    }
}
