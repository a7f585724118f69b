using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using System.Text;
using Heartbeat.Server.Tests.Infrastructure;

namespace Heartbeat.Server.Tests;

/// <summary>
/// The log under an outside rotator: Debian's logrotate with the shipped configuration, both ways it offers,
/// and a SIGHUP on its own, against heartbeat-server as its own process.
/// </summary>
public sealed class LogRotationTests
{
    private const int Clients = 8;
    private const int MaxBeatsPerClient = 5000;
    private const int BeatsBetweenRotations = 300;

    [Fact]
    public async Task LogrotateMovingTheLogAwayAndSighupWhileBeatsPourInLosesAndTearsNoAcknowledgedLine()
    {
        using var directory = new TempDirectory();
        var log = directory.File("heartbeat_server.log");
        using var server = StartServer(log);
        var port = await server.WaitForStartAsync(log);
        var config = directory.File("logrotate.conf");
        await File.WriteAllTextAsync(config, Logrotate.MoveAndHangUp(log, server.Id), TestContext.Current.CancellationToken);

        // Beats pour in from several clients while logrotate moves the log away three times, each followed by SIGHUP.
        var acknowledged = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        var load = Task.WhenAll(Enumerable.Range(0, Clients).Select(client => BeatUntilAsync(port, client, acknowledged, stop.Token)));
        for (var rotation = 1; rotation <= 3; rotation++)
        {
            var target = rotation * BeatsBetweenRotations;
            await Eventually.TrueAsync(() => acknowledged.Count >= target, $"{target} acknowledged beats");
            await Logrotate.RunAsync(config);
        }

        var last = acknowledged.Count + BeatsBetweenRotations;
        await Eventually.TrueAsync(() => acknowledged.Count >= last, "beats after the last rotation");
        await stop.CancelAsync();
        await load;

        var generations = Generations(log);
        Assert.Equal(4, generations.Count); // the log and three rotated files (.2 and .3 compressed)
        AssertWholeLinesHolding(generations, acknowledged);
        Assert.False(server.HasExited);
        Assert.Equal(3, Occurrences(server.StandardOutput, "Reopened the heartbeat log"));
        using var http = new HttpClient();
        using var health = await http.GetAsync($"http://127.0.0.1:{port}/healthz", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        TestContext.Current.TestOutputHelper?.WriteLine($"move + SIGHUP: {acknowledged.Count} beats acknowledged across 3 rotations, all found in {generations.Count} files");
    }

    [Fact]
    public async Task LogrotateWithCopytruncateLeavesNoNulBytesAndTheLogGoesOnFromItsStart()
    {
        using var directory = new TempDirectory();
        var log = directory.File("heartbeat_server.log");
        using var server = StartServer(log);
        var port = await server.WaitForStartAsync(log);
        var config = directory.File("logrotate.conf");
        await File.WriteAllTextAsync(config, Logrotate.CopyTruncate(log), TestContext.Current.CancellationToken);

        // Rotations between rounds of beats: copytruncate itself loses what is written between its copy and its
        // truncation (its manual says so), which is not the server's to prevent.
        var acknowledged = new ConcurrentQueue<string>();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        for (var round = 0; round < 3; round++)
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, 100), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (beat, ct) =>
            {
                var host = $"round{round}-{beat}";
                using var response = await http.PostAsync("/", new StringContent($$"""{"host": "{{host}}"}"""), ct);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                acknowledged.Enqueue(host);
            });
            await Logrotate.RunAsync(config);
            Assert.Equal(0, new FileInfo(log).Length);
        }

        using (var response = await http.PostAsync("/", new StringContent("""{"host": "after-the-last"}"""), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            acknowledged.Enqueue("after-the-last");
        }

        // The writer appends at the end as it is now: the emptied log starts with the next line, not a hole.
        Assert.StartsWith("20", await File.ReadAllTextAsync(log, TestContext.Current.CancellationToken), StringComparison.Ordinal);
        AssertWholeLinesHolding(Generations(log), acknowledged);
        Assert.False(server.HasExited);
    }

    [Fact]
    public async Task SighupReopensAMovedLogAndTheServerKeepsRunningAndStopsCleanlyLater()
    {
        using var directory = new TempDirectory();
        var log = directory.File("heartbeat_server.log");
        using var server = StartServer(log);
        var port = await server.WaitForStartAsync(log);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        (await http.PostAsync("/", new StringContent("""{"host": "before"}"""), TestContext.Current.CancellationToken)).Dispose();

        File.Move(log, log + ".old");
        server.Hangup();
        await Eventually.TrueAsync(() => server.StandardOutput.Contains("Reopened the heartbeat log", StringComparison.Ordinal), "the reopen to be reported");
        using var after = await http.PostAsync("/", new StringContent("""{"host": "after"}"""), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(["Received heartbeat - From: 127.0.0.1, Reported IP: -, Host: after"], HeartbeatLogFile.HeartbeatMessages(log));
        Assert.Equal(["Received heartbeat - From: 127.0.0.1, Reported IP: -, Host: before"], HeartbeatLogFile.HeartbeatMessages(log + ".old"));
        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(15)));
    }

    private static ChildProcess StartServer(string log) => ServerProcess.Start(
        ["0", "--bind", "127.0.0.1", "--log-file", log, "--log-max-size", "0", "--rate-limit", "0", "--host-rate-limit", "0", "--max-new-hosts-per-minute", "0"]);

    /// <summary>One client beating, each beat a host of its own, until told to stop (or a bounded number of beats).</summary>
    private static async Task BeatUntilAsync(int port, int client, ConcurrentQueue<string> acknowledged, CancellationToken stop)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        for (var beat = 0; beat < MaxBeatsPerClient && !stop.IsCancellationRequested; beat++)
        {
            var host = $"client{client}-{beat}";
            using var response = await http.PostAsync("/", new StringContent($$"""{"host": "{{host}}"}"""), TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            acknowledged.Enqueue(host);
        }
    }

    /// <summary>Every line of every file whole (timestamped, no NUL), and every acknowledged host's line there exactly once.</summary>
    private static void AssertWholeLinesHolding(IReadOnlyList<string> files, IEnumerable<string> acknowledged)
    {
        var texts = files.Select(ReadAll).ToList();
        Assert.All(texts, text => Assert.DoesNotContain('\0', text));
        Assert.All(texts, text => Assert.True(text.Length == 0 || text.EndsWith('\n'), "a file ends in the middle of a line"));
        var lines = texts.SelectMany(text => text.Split('\n', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.All(lines, line => Assert.Matches(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} - \S", line));
        var logged = lines.Where(line => HeartbeatLogFile.HeartbeatLine().IsMatch(line)).Select(line => line[(line.LastIndexOf(' ') + 1)..]).Order(StringComparer.Ordinal);
        Assert.Equal(acknowledged.Order(StringComparer.Ordinal), logged);
    }

    /// <summary>The log and its rotated files that exist: path, path.1, path.2.gz, …</summary>
    private static List<string> Generations(string log) =>
        [log, .. Enumerable.Range(1, 20).Select(g => File.Exists($"{log}.{g}") ? $"{log}.{g}" : $"{log}.{g}.gz").TakeWhile(File.Exists)];

    private static string ReadAll(string file)
    {
        using var stream = File.OpenRead(file);
        using var content = file.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(stream, CompressionMode.Decompress) : (Stream)stream;
        using var reader = new StreamReader(content, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static int Occurrences(string text, string what) =>
        text.Split('\n').Count(line => line.Contains(what, StringComparison.Ordinal));
}
