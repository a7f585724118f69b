using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Heartbeat.Server.Tests.Infrastructure;

namespace Heartbeat.Server.Tests;

/// <summary>
/// Random and malformed requests, in bounded numbers and from a fixed seed (so a failure can be replayed):
/// the server never answers 5xx, never dies, never writes a line it did not mean to, never shows a string unescaped.
/// </summary>
public sealed partial class AbuseTests
{
    private const int Seed = 20261125;

    private static readonly string[] Fragments =
    [
        "{", "}", "[", "]", "\"", ":", ",", "null", "true", "1e999", "-0", "\"ip\"", "\"host\"", "\"msg\"", "\"interval\"", "\"status\"",
        "\"1.2.3.4\"", "\"::1\"", "\"fail\"", "\\n", "\\u0000", "\\u2028", "\\ud800", "\n", "\r\n", "\t", "<script>alert(1)</script>",
        "2026-01-01 00:00:00 - Received heartbeat - From: 6.6.6.6", "\u202e", "é", "💥", new string('a', 300), "\\\"",
    ];

    [Fact]
    public async Task RandomBodiesNeverCauseA5xxAForgedLineOrAnUnescapedString()
    {
        var random = new Random(Seed);
        await using var server = await InProcessServer.StartAsync(InProcessServer.WithoutRateLimits);

        for (var i = 0; i < 1500; i++)
        {
            var body = RandomBody(random);
            using var content = new ByteArrayContent(body);
            using var response = await server.Client.PostAsync("/", content, TestContext.Current.CancellationToken);
            Assert.True((int)response.StatusCode < 500, $"Body #{i} got {(int)response.StatusCode}: {Convert.ToBase64String(body)}");
        }

        Assert.All(HeartbeatLogFile.ReadLines(server.LogPath), line => Assert.Matches(KnownLine(), line));
        var page = await server.Client.GetStringAsync("/", TestContext.Current.CancellationToken);
        Assert.DoesNotContain("<script>", page, StringComparison.Ordinal);
        Assert.DoesNotContain("\u202e", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RandomMethodsPathsAndHeadersNeverCauseA5xx()
    {
        var random = new Random(Seed);
        await using var server = await InProcessServer.StartAsync(InProcessServer.WithoutRateLimits);
        string[] methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "PROPFIND", "BREW"];
        string[] paths = ["/", "/ping/", "/ping/x/fail", "/api/v1/hosts", "/api/v1/hosts/%00", "/api/v1/hosts/..%2F..%2Fetc", "/api/v1/events?since=-1",
            "/assets/../Program.cs", "/metrics", "/healthz", "/%2e%2e/", "/ping/" + new string('x', 300), "/api/v1/hosts?limit=99999999999", "/?q=%3Cscript%3E"];

        for (var i = 0; i < 500; i++)
        {
            using var request = new HttpRequestMessage(new HttpMethod(methods[random.Next(methods.Length)]), paths[random.Next(paths.Length)]);
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", random.Next(2) == 0 ? "1.2.3.4" : "not-an-ip, <b>");
            request.Headers.TryAddWithoutValidation("Authorization", random.Next(2) == 0 ? "Bearer " + new string('z', random.Next(1, 500)) : "Basic ???");
            request.Headers.TryAddWithoutValidation("Accept", random.Next(2) == 0 ? "application/json" : "*/*;q=banana");
            if (request.Method == HttpMethod.Post || request.Method == HttpMethod.Put)
            {
                request.Content = new ByteArrayContent(RandomBody(random));
            }

            using var response = await server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
            Assert.True((int)response.StatusCode < 500, $"{request.Method} {request.RequestUri} got {(int)response.StatusCode}");
        }

        Assert.All(HeartbeatLogFile.ReadLines(server.LogPath), line => Assert.Matches(KnownLine(), line));
    }

    [Fact]
    public async Task MalformedHttpOnTheWireIsAnsweredOrDroppedAndTheServerCarriesOn()
    {
        await using var server = await InProcessServer.StartAsync(InProcessServer.WithoutRateLimits);
        string[] garbage =
        [
            "GARBAGE\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nnot-a-chunk-size\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n",
            "GET /" + new string('a', 20_000) + " HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + new string('b', 40_000) + "\r\n\r\n",
            "GET / HTTP/9.9\r\nHost: x\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{\"ip\":\"1\n",
        ];

        foreach (var request in garbage)
        {
            var answer = await SendRawAsync(server.Port, request);
            Assert.DoesNotMatch(@"^HTTP/1\.1 5\d\d", answer);
        }

        await server.BeatAsync("""{"host": "still-here"}""");
        Assert.Equal(["Received heartbeat - From: 127.0.0.1, Reported IP: -, Host: still-here"], server.HeartbeatMessages());
    }

    private static byte[] RandomBody(Random random)
    {
        switch (random.Next(4))
        {
            case 0:
                var bytes = new byte[random.Next(0, 200)];
                random.NextBytes(bytes);
                return bytes;
            default:
                var text = new StringBuilder();
                for (var n = random.Next(1, 20); n > 0; n--)
                {
                    text.Append(Fragments[random.Next(Fragments.Length)]);
                }

                return Encoding.UTF8.GetBytes(text.ToString());
        }
    }

    private static async Task<string> SendRawAsync(int port, string request)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port, TestContext.Current.CancellationToken);
        try
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(request), TestContext.Current.CancellationToken);
            socket.Shutdown(SocketShutdown.Send);
            using var reader = new StreamReader(new NetworkStream(socket));
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            deadline.CancelAfter(TimeSpan.FromSeconds(15));
            return await reader.ReadToEndAsync(deadline.Token);
        }
        catch (IOException)
        {
            return string.Empty; // the server hung up on it, which is fine
        }
        catch (SocketException)
        {
            return string.Empty;
        }
    }

    /// <summary>Every line the server may write: the start line, beats, and events, each with safe characters only.</summary>
    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} - (Server started, listening on port \d+|Received heartbeat - From: [0-9a-f.:]+, Reported IP: ([0-9a-fA-F.:%]+|-)(, Host: [A-Za-z0-9._:-]+)?|(New host|Host IP changed|Host down|Host recovered|Host failing) - [A-Za-z0-9._:-]+( \([^\x00-\x1f\u2028\u2029\u202a-\u202e]*\))?)$")]
    private static partial Regex KnownLine();
}
