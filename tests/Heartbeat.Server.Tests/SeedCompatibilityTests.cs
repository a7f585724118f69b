using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Heartbeat.Server.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Heartbeat.Server.Tests;

/// <summary>Everything the seed README shows keeps working, byte for byte where the seed defines the bytes.</summary>
public sealed class SeedCompatibilityTests
{
    [Fact]
    public async Task PostWithJsonIpLogsTheSeedLine()
    {
        await using var server = await InProcessServer.StartAsync();

        using var response = await server.PostAsync("""{"ip": "192.168.1.100"}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var line = Assert.Single(HeartbeatLogFile.ReadLines(server.LogPath), l => l.Contains("Received heartbeat", StringComparison.Ordinal));
        Assert.Matches(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} - Received heartbeat - From: 127\.0\.0\.1, Reported IP: 192\.168\.1\.100$", line);
    }

    [Fact]
    public async Task PostWithCurlsDefaultFormContentTypeIsAHeartbeatToo()
    {
        await using var server = await InProcessServer.StartAsync();

        using var response = await server.PostAsync("""{"ip": "10.0.0.7"}""", "application/x-www-form-urlencoded");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["Received heartbeat - From: 127.0.0.1, Reported IP: 10.0.0.7"], server.HeartbeatMessages());
    }

    [Theory]
    [InlineData("")]
    [InlineData("{}")]
    [InlineData("  \n")]
    [InlineData("""{"ip": null}""")]
    public async Task PostWithoutIpLogsADash(string body)
    {
        await using var server = await InProcessServer.StartAsync();

        using var response = await server.PostAsync(body, contentType: null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["Received heartbeat - From: 127.0.0.1, Reported IP: -"], server.HeartbeatMessages());
    }

    [Fact]
    public async Task PostWithHostEndsTheLineWithTheHost()
    {
        await using var server = await InProcessServer.StartAsync();

        using var response = await server.PostAsync("""{"ip": "192.168.1.53", "host": "web1.example.org", "interval": 60, "status": "up", "msg": "all good"}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["Received heartbeat - From: 127.0.0.1, Reported IP: 192.168.1.53, Host: web1.example.org"], server.HeartbeatMessages());
    }

    [Fact]
    public async Task AcceptedHeartbeatIsAnsweredWithSmallJson()
    {
        await using var server = await InProcessServer.StartAsync();

        using var response = await server.PostAsync("""{"ip": "192.168.1.100"}""");

        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal("ok", json.RootElement.GetProperty("status").GetString());
        Assert.Equal("127.0.0.1", json.RootElement.GetProperty("from").GetString());
    }

    [Fact]
    public async Task StartLineNamesThePortInTheSeedsWords()
    {
        await using var server = await InProcessServer.StartAsync();

        var first = HeartbeatLogFile.ReadMessages(server.LogPath)[0];

        Assert.Equal($"Server started, listening on port {server.Port}", first);
    }

    [Fact]
    public async Task LogTimestampsAreLocalTimeInTheSeedsFormat()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 2, 8, 6, 0, 20, TimeSpan.Zero));
        time.SetLocalTimeZone(TimeZoneInfo.CreateCustomTimeZone("UTC+05:30", TimeSpan.FromMinutes(330), "UTC+05:30", "UTC+05:30"));
        await using var server = await InProcessServer.StartAsync(time: time);

        using var response = await server.PostAsync("""{"ip": "192.168.1.53"}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(
            [
                $"2026-02-08 11:30:20 - Server started, listening on port {server.Port}",
                "2026-02-08 11:30:20 - Received heartbeat - From: 127.0.0.1, Reported IP: 192.168.1.53",
                "2026-02-08 11:30:20 - New host - 192.168.1.53 (IP 192.168.1.53, expected every 60s)",
            ],
            HeartbeatLogFile.ReadLines(server.LogPath));
    }

    [Fact]
    public async Task ExistingLogIsAppendedToNeverTruncated()
    {
        using var directory = new TempDirectory();
        var path = directory.File("existing.log");
        await File.WriteAllTextAsync(path, "2026-02-08 11:30:15 - Server started, listening on port 7777\n", TestContext.Current.CancellationToken);

        await using (var server = await InProcessServer.StartAsync(o => o with { Log = o.Log with { Path = path } }))
        {
            using var response = await server.PostAsync("""{"ip": "192.168.1.53"}""");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var messages = HeartbeatLogFile.ReadMessages(path);
        Assert.Equal("Server started, listening on port 7777", messages[0]);
        Assert.StartsWith("Server started, listening on port ", messages[1], StringComparison.Ordinal);
        Assert.Equal("Received heartbeat - From: 127.0.0.1, Reported IP: 192.168.1.53", messages[2]);
    }

    [Fact]
    public async Task GetShowsAnHtmlStatusPageWithTheBeatCount()
    {
        await using var server = await InProcessServer.StartAsync();
        (await server.PostAsync("{}")).Dispose();
        (await server.PostAsync("{}")).Dispose();

        using var response = await server.Client.GetAsync("/", TestContext.Current.CancellationToken);
        var html = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<dt>Heartbeats received</dt><dd id=\"beats\">2</dd>", html, StringComparison.Ordinal);
        Assert.Contains("<dt>Version</dt>", html, StringComparison.Ordinal);
        Assert.Contains("<dt>Uptime</dt>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HeadAnswersTheSameHeadersAsGetAndNoBody()
    {
        // A clock that stands still: the page shows the uptime, whose length could change between the two requests.
        await using var server = await InProcessServer.StartAsync(time: new FakeTimeProvider(new DateTimeOffset(2026, 2, 8, 11, 30, 0, TimeSpan.Zero)));
        using var get = await server.Client.GetAsync("/", TestContext.Current.CancellationToken);
        var getLength = (await get.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken)).Length;

        // A raw socket, because HttpClient would hide any body bytes sent after a HEAD answer.
        var raw = await SendRawAsync(server.Port, "HEAD / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");

        var headerEnd = raw.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", raw, StringComparison.Ordinal);
        Assert.Equal(raw.Length, headerEnd + 4);
        Assert.Contains("Content-Type: text/html; charset=utf-8\r\n", raw, StringComparison.Ordinal);
        Assert.Contains($"Content-Length: {getLength}\r\n", raw, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("PATCH")]
    public async Task OtherMethodsOnTheRootGet405WithAllow(string method)
    {
        await using var server = await InProcessServer.StartAsync();

        using var response = await server.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(["GET", "HEAD", "POST"], response.Content.Headers.Allow.Order(StringComparer.Ordinal));
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(server.HeartbeatMessages());
    }

    [Fact]
    public async Task IPv6ClientsAreLoggedByTheirAddressAndReportedIPv6IsCanonical()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { Bind = ["::1"] });
        using var client = new HttpClient { BaseAddress = new Uri($"http://[::1]:{server.Port}") };

        using var response = await client.PostAsync("/", new StringContent("""{"ip": "2001:DB8::1"}"""), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["Received heartbeat - From: ::1, Reported IP: 2001:db8::1"], server.HeartbeatMessages());
    }

    internal static async Task<string> SendRawAsync(int port, string request)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port, TestContext.Current.CancellationToken);
        await socket.SendAsync(Encoding.ASCII.GetBytes(request), TestContext.Current.CancellationToken);
        using var stream = new NetworkStream(socket);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync(TestContext.Current.CancellationToken);
    }
}
