using System.Net;
using Heartbeat.Server.Tests.Infrastructure;

namespace Heartbeat.Server.Tests;

/// <summary>Clients of other monitors, replaying the requests their documentation shows, become ordinary beats.</summary>
public sealed class PeerIngressTests
{
    [Theory]
    [InlineData("GET")]
    [InlineData("POST")]
    public async Task UptimeKumaPushUrlsAreBeatsFromTheHostThePushTokenNames(string method)
    {
        await using var server = await InProcessServer.StartAsync();

        using var response = await server.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/api/push/nas-backup?status=up&msg=OK&ping="), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["Received heartbeat - From: 127.0.0.1, Reported IP: -, Host: nas-backup"], server.HeartbeatMessages());
        var host = await server.GetHostAsync("nas-backup");
        Assert.Equal(("up", "OK"), (host.GetProperty("state").GetString(), host.GetProperty("message").GetString()));
    }

    [Fact]
    public async Task AnUptimeKumaDownPushReportsAFailure()
    {
        await using var server = await InProcessServer.StartAsync();

        using var response = await server.Client.GetAsync("/api/push/nas-backup?status=down&msg=disk%20full&ping=12", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("failing", await server.StateOfAsync("nas-backup"));
        await HeartbeatLogFile.WaitForMessageAsync(server.LogPath, "Host failing - nas-backup (disk full)");
    }

    [Theory]
    [InlineData("pass", "up")]
    [InlineData("warn", "failing")]
    [InlineData("fail", "failing")]
    public async Task ConsulTtlCheckUpdatesSetTheHostsState(string result, string state)
    {
        await using var server = await InProcessServer.StartAsync();

        using var response = await server.Client.PutAsync($"/v1/agent/check/{result}/service:web1?note=checked%20by%20cron", null, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["Received heartbeat - From: 127.0.0.1, Reported IP: -, Host: service:web1"], server.HeartbeatMessages());
        var host = await server.GetHostAsync("service:web1");
        Assert.Equal((state, "checked by cron"), (host.GetProperty("state").GetString(), host.GetProperty("message").GetString()));
    }

    [Theory]
    [InlineData("GET", "/api/push/nas?status=sideways", HttpStatusCode.BadRequest)]
    [InlineData("GET", "/api/push/bad%20name", HttpStatusCode.BadRequest)]
    [InlineData("PUT", "/v1/agent/check/pass/web1?note=line%0Abreak", HttpStatusCode.BadRequest)]
    [InlineData("DELETE", "/v1/agent/check/pass/web1", HttpStatusCode.MethodNotAllowed)]
    [InlineData("PUT", "/v1/agent/check/update/web1", HttpStatusCode.BadRequest)]
    public async Task MalformedPeerRequestsAreRefusedAndLeaveNoTrace(string method, string path, HttpStatusCode status)
    {
        await using var server = await InProcessServer.StartAsync();

        using var response = await server.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path), TestContext.Current.CancellationToken);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(server.HeartbeatMessages());
    }
}
