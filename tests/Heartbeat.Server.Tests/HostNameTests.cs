using System.Net;
using System.Text.Json;
using Heartbeat.Server.Tests.Infrastructure;

namespace Heartbeat.Server.Tests;

/// <summary>Every name the server accepts can be found again by its URL; a name no URL can carry is refused wherever it arrives.</summary>
public sealed class HostNameTests
{
    /// <summary>Valid names that look like trouble for a URL: dots, colons, words the routes use, case, the longest.</summary>
    private static readonly string[] TrickyNames =
    [
        "...", "....", ".hidden", "trailing.", "a..b", "..a", "a..", ".-", "_", "-", ":", "::", "::1", "a:b", "c:", "2001:db8::1",
        "1.2.3.4", "Web1", "web1", "history", "maintenance", "start", "fail", "log", "0", "255", "index.html", "con", new string('h', 253),
    ];

    [Fact]
    public async Task EveryAcceptedNameCanBeReadPingedAndForgottenByItsUrl()
    {
        await using var server = await InProcessServer.StartAsync(InProcessServer.WithoutRateLimits);

        foreach (var name in TrickyNames)
        {
            var url = Uri.EscapeDataString(name);
            await server.BeatAsync(JsonSerializer.Serialize(new { host = name }));
            using (var ping = await server.Client.GetAsync($"/ping/{url}", TestContext.Current.CancellationToken))
            {
                Assert.True(ping.StatusCode == HttpStatusCode.OK, $"/ping/{url} -> {(int)ping.StatusCode}");
            }

            var host = await server.GetHostAsync(name);
            Assert.Equal((name, 2), (host.GetProperty("id").GetString(), host.GetProperty("beats").GetInt32()));

            using var forget = await server.Client.DeleteAsync($"/api/v1/hosts/{url}", TestContext.Current.CancellationToken);
            Assert.True(forget.StatusCode == HttpStatusCode.NoContent, $"DELETE {url} -> {(int)forget.StatusCode}");
            Assert.Null(await server.FindHostAsync(name));
        }

        Assert.Equal(0, (await server.GetJsonAsync("/api/v1/hosts")).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task AHostKnownByItsIpv6AddressCanBeReadAndForgottenByItsUrl()
    {
        await using var server = await InProcessServer.StartAsync();

        await server.BeatAsync("""{"ip": "fe80::1%2"}""");

        Assert.Equal("fe80::1%2", (await server.GetHostAsync("fe80::1%2")).GetProperty("id").GetString());
        using var forget = await server.Client.DeleteAsync($"/api/v1/hosts/{Uri.EscapeDataString("fe80::1%2")}", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NoContent, forget.StatusCode);
    }

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    public async Task ADotSegmentAsTheHostFieldIsRefusedAndLeavesNoTrace(string name)
    {
        await using var server = await InProcessServer.StartAsync();

        using var response = await server.PostAsync(JsonSerializer.Serialize(new { host = name }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;
        Assert.Equal("host", problem.GetProperty("field").GetString());
        Assert.Contains("not '.' or '..'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await AssertNoTraceAsync(server);
    }

    [Theory]
    [InlineData("GET /ping/.")]
    [InlineData("GET /ping/..")]
    [InlineData("POST /ping/..")] // without the check, POST / : a beat from the peer's address
    [InlineData("GET /ping/%2E")]
    [InlineData("GET /ping/%2e%2E/fail")]
    [InlineData("HEAD /ping/.%2e/0?interval=60")]
    [InlineData("POST /ping/../start")]
    [InlineData("GET /api/push/..?status=up&msg=OK")]
    [InlineData("GET /api/push/%2E?status=down")]
    [InlineData("PUT /v1/agent/check/pass/..")]
    [InlineData("PUT /v1/agent/check/fail/%2E%2E?note=broken")]
    public async Task ADotSegmentWhereAPathNamesTheHostIsRefusedAndLeavesNoTrace(string request)
    {
        await using var server = await InProcessServer.StartAsync();

        var answer = await SeedCompatibilityTests.SendRawAsync(
            server.Port, $"{request} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 400 ", answer, StringComparison.Ordinal);
        Assert.Contains("Content-Type: application/problem+json", answer, StringComparison.OrdinalIgnoreCase);
        if (!request.StartsWith("HEAD", StringComparison.Ordinal))
        {
            Assert.Contains("\"field\":\"host\"", answer, StringComparison.Ordinal);
        }

        await AssertNoTraceAsync(server);
    }

    [Theory]
    [InlineData("/ping/.../fail")]
    [InlineData("/ping/a.%2E")]
    [InlineData("/api/push/.hidden?status=up")]
    public async Task DotsInsideANameInAPathAreNoDotSegment(string path)
    {
        await using var server = await InProcessServer.StartAsync();

        var answer = await SeedCompatibilityTests.SendRawAsync(server.Port, $"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 200 ", answer, StringComparison.Ordinal);
        Assert.Single(server.HeartbeatMessages());
    }

    private static async Task AssertNoTraceAsync(InProcessServer server)
    {
        Assert.Equal([$"Server started, listening on port {server.Port}"], HeartbeatLogFile.ReadMessages(server.LogPath));
        Assert.Equal(0, (await server.GetJsonAsync("/api/v1/hosts")).GetProperty("total").GetInt32());
    }
}
