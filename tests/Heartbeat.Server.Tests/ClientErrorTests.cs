using System.Net;
using System.Net.Sockets;
using System.Text;
using Heartbeat.Server.Tests.Infrastructure;

namespace Heartbeat.Server.Tests;

/// <summary>
/// What a client gets wrong at the level of HTTP or bytes (framing, pace, encoding) is answered with the right
/// 4xx and a problem, leaves no trace in the log, and never puts a stack trace on the console.
/// </summary>
public sealed class ClientErrorTests
{
    private const string BrokenChunk = "Transfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n";

    [Theory]
    [InlineData("/")]
    [InlineData("/ping/web1")]
    public async Task MalformedChunkedFramingGets400ProblemAndLogsNothing(string path)
    {
        await using var server = await InProcessServer.StartAsync();

        var response = await RawAsync(server.Port, $"POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{BrokenChunk}");

        Assert.StartsWith("HTTP/1.1 400 ", response, StringComparison.Ordinal);
        Assert.Contains("Content-Type: application/problem+json", response, StringComparison.Ordinal);
        Assert.Contains("Bad chunk size data.", response, StringComparison.Ordinal);
        Assert.Empty(server.HeartbeatMessages());
    }

    [Fact]
    public async Task ABodySentSlowerThanTheMinimumRateGets408()
    {
        await using var server = await InProcessServer.StartAsync();

        // One byte of a promised hundred, then nothing: below 240 bytes/s once the 5 s grace is over.
        var response = await RawAsync(server.Port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{");

        Assert.StartsWith("HTTP/1.1 408 ", response, StringComparison.Ordinal);
        Assert.Contains("Content-Type: application/problem+json", response, StringComparison.Ordinal);
        Assert.Empty(server.HeartbeatMessages());
    }

    [Theory]
    [InlineData("""{"host": "web1", "note": "~"}""")]
    [InlineData("""{"host": "web1", "~": 1}""")]
    [InlineData("""{"host": "web~"}""")]
    public async Task InvalidUtf8AnywhereInTheBodyGets400ProblemAndLogsNothing(string template)
    {
        await using var server = await InProcessServer.StartAsync();
        var bytes = Encoding.ASCII.GetBytes(template).SelectMany(b => b == '~' ? new byte[] { 0xC3, 0x28 } : [b]).ToArray();

        using var response = await server.Client.PostAsync("/", new ByteArrayContent(bytes), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("not valid UTF-8", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Empty(server.HeartbeatMessages());
        Assert.Null(await server.FindHostAsync("web1"));
    }

    [Fact]
    public async Task NothingAClientDoesPutsAStackTraceOnTheConsole()
    {
        using var directory = new TempDirectory();
        var log = directory.File("heartbeat.log");
        using var server = ServerProcess.Start(["0", "--bind", "127.0.0.1", "--log-file", log]);
        var port = await server.WaitForStartAsync(log);

        string[] requests =
        [
            $"POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{BrokenChunk}",
            $"POST /ping/web1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{BrokenChunk}",
            "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 11\r\n\r\n{\"ip\": \"\xff\"}",
            "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 9\r\n\r\n{\"ip\": 1,",
            "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 99999999\r\n\r\n{}",
            "NOT HTTP AT ALL\r\n\r\n",
        ];
        foreach (var request in requests)
        {
            Assert.Matches("^HTTP/1.1 4\\d\\d ", await RawAsync(port, request));
        }

        Assert.StartsWith("HTTP/1.1 408 ", await RawAsync(port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"), StringComparison.Ordinal);
        await HangUpMidBodyAsync(port);
        using (var http = new HttpClient())
        using (var fine = await http.PostAsync($"http://127.0.0.1:{port}/", new StringContent("""{"host": "fine"}"""), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, fine.StatusCode);
        }

        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        var console = server.StandardOutput + server.StandardError;
        Assert.False(
            console.Contains("   at ", StringComparison.Ordinal) || console.Contains("Exception", StringComparison.Ordinal) || console.Contains(" fail: ", StringComparison.Ordinal),
            $"A stack trace or an error on the console:\n{console}");
        Assert.Equal(["Received heartbeat - From: 127.0.0.1, Reported IP: -, Host: fine"], HeartbeatLogFile.HeartbeatMessages(log));
    }

    /// <summary>
    /// Sends the bytes as they are (Latin-1, so "\xff" is the byte 0xFF) and returns all that comes back until the
    /// server closes the connection, as it does after each of these answers.
    /// </summary>
    private static async Task<string> RawAsync(int port, string request)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port, TestContext.Current.CancellationToken);
        await socket.SendAsync(Encoding.Latin1.GetBytes(request), TestContext.Current.CancellationToken);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(30));
        var received = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, deadline.Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (SocketException)
        {
            // Reset after the answer: what came before it is what counts.
        }

        return Encoding.Latin1.GetString(received.ToArray());
    }

    /// <summary>Half a body, then the connection is gone.</summary>
    private static async Task HangUpMidBodyAsync(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port, TestContext.Current.CancellationToken);
        await socket.SendAsync(Encoding.ASCII.GetBytes("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"host\": "), TestContext.Current.CancellationToken);
        socket.LingerState = new LingerOption(true, 0);
    }
}
