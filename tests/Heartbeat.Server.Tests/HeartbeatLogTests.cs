using System.Net;
using System.Net.Sockets;
using System.Text;
using Heartbeat.Server.Tests.Infrastructure;

namespace Heartbeat.Server.Tests;

/// <summary>The log under load and across rotation: every acknowledged beat is one whole line, exactly once.</summary>
public sealed class HeartbeatLogTests
{
    [Fact]
    public async Task SixtyFourConcurrentClientsOfAHundredBeatsEachGiveExactlyThatManyWholeLines()
    {
        const int clients = 64, beatsPerClient = 100;
        await using var server = await InProcessServer.StartAsync(InProcessServer.WithoutRateLimits);

        await Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
        {
            using var http = new HttpClient { BaseAddress = server.Client.BaseAddress };
            for (var beat = 0; beat < beatsPerClient; beat++)
            {
                using var response = await http.PostAsync("/", new StringContent($$"""{"ip": "10.0.{{client}}.{{beat}}", "host": "client-{{client}}"}"""), TestContext.Current.CancellationToken);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        })));

        var lines = HeartbeatLogFile.ReadLines(server.LogPath).Where(l => l.Contains(" - Received heartbeat - ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(clients * beatsPerClient, lines.Length);
        Assert.All(lines, line => Assert.Matches(HeartbeatLogFile.HeartbeatLine(), line));
        Assert.Equal(clients * beatsPerClient, lines.Distinct().Count());
        Assert.All(
            lines.GroupBy(line => line[(line.LastIndexOf(' ') + 1)..]),
            host => Assert.Equal(beatsPerClient, host.Count()));
    }

    [Fact]
    public async Task RotationKeepsEveryLineAndNoFileGrowsPastTheLimit()
    {
        const int beats = 300;
        const long maxSize = 4096;
        // 300 new hosts from one address: more than --max-new-hosts-per-minute allows, on purpose.
        await using var server = await InProcessServer.StartAsync(o => InProcessServer.WithoutRateLimits(o) with { Log = o.Log with { MaxSizeBytes = maxSize, Keep = 50 } });

        for (var beat = 0; beat < beats; beat++)
        {
            using var response = await server.PostAsync($$"""{"ip": "10.1.{{beat / 256}}.{{beat % 256}}", "host": "beat-{{beat}}"}""");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var files = LogGenerations(server.LogPath);
        Assert.True(files.Count > 5, $"expected several rotated files, found {files.Count}");
        Assert.All(files, file => Assert.True(new FileInfo(file).Length <= maxSize, $"{file} is {new FileInfo(file).Length} bytes"));

        // Oldest file first: together they are the whole log, in order, with no line lost or torn.
        var hosts = files.AsEnumerable().Reverse().SelectMany(HeartbeatLogFile.HeartbeatMessages).Select(m => m[(m.LastIndexOf(' ') + 1)..]);
        Assert.Equal(Enumerable.Range(0, beats).Select(b => $"beat-{b}"), hosts);
    }

    [Fact]
    public async Task RotationKeepsOnlyTheConfiguredNumberOfOldFiles()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { Log = o.Log with { MaxSizeBytes = 1024, Keep = 2 } });

        for (var beat = 0; beat < 100; beat++)
        {
            (await server.PostAsync($$"""{"host": "beat-{{beat}}"}""")).Dispose();
        }

        Assert.Equal([server.LogPath, server.LogPath + ".1", server.LogPath + ".2"], LogGenerations(server.LogPath));
        Assert.False(File.Exists(server.LogPath + ".3"));
        Assert.EndsWith("Host: beat-99", HeartbeatLogFile.HeartbeatMessages(server.LogPath)[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task SlowClientsHoldingHalfSentRequestsDoNotStarveOthers()
    {
        await using var server = await InProcessServer.StartAsync();
        var stalled = new List<Socket>();
        try
        {
            for (var i = 0; i < 200; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                stalled.Add(socket);
                await socket.ConnectAsync(IPAddress.Loopback, server.Port, TestContext.Current.CancellationToken);
                await socket.SendAsync(Encoding.ASCII.GetBytes("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"), TestContext.Current.CancellationToken);
            }

            using var response = await server.PostAsync("""{"host": "patient"}""");

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(["Received heartbeat - From: 127.0.0.1, Reported IP: -, Host: patient"], server.HeartbeatMessages());
        }
        finally
        {
            stalled.ForEach(s => s.Dispose());
        }
    }

    /// <summary>The live log and its rotated generations that exist, newest first.</summary>
    private static List<string> LogGenerations(string path) =>
        [path, .. Enumerable.Range(1, 100).Select(g => $"{path}.{g}").TakeWhile(File.Exists)];
}
