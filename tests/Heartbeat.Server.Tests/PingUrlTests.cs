using System.Net;
using Heartbeat.Server.Tests.Infrastructure;

namespace Heartbeat.Server.Tests;

/// <summary>Cron-style ping URLs: what a crontab line with curl needs, checked like a JSON beat.</summary>
public sealed class PingUrlTests
{
    [Theory]
    [InlineData("GET")]
    [InlineData("POST")]
    [InlineData("HEAD")]
    public async Task APingRecordsABeatForTheHostWithThePeerAsItsIp(string method)
    {
        await using var server = await InProcessServer.StartAsync();

        using var response = await server.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/ping/nightly-backup"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["Received heartbeat - From: 127.0.0.1, Reported IP: -, Host: nightly-backup"], server.HeartbeatMessages());
        var host = await server.GetHostAsync("nightly-backup");
        Assert.Equal(("up", "127.0.0.1"), (host.GetProperty("state").GetString(), host.GetProperty("ip").GetString()));
    }

    [Fact]
    public async Task FailAndIntervalAndMessageAreTakenFromThePathAndQuery()
    {
        await using var server = await InProcessServer.StartAsync();

        using var response = await server.Client.GetAsync("/ping/db-dump/fail?interval=86400&msg=exit%20code%202", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var host = await server.GetHostAsync("db-dump");
        Assert.Equal("failing", host.GetProperty("state").GetString());
        Assert.Equal(86400, host.GetProperty("intervalSeconds").GetDouble());
        Assert.Equal("exit code 2", host.GetProperty("message").GetString());
        Assert.Contains("Host failing - db-dump (exit code 2)", HeartbeatLogFile.ReadMessages(server.LogPath));
    }

    [Theory]
    [InlineData("/ping/bad%20name", "host")]
    [InlineData("/ping/%3Cscript%3E", "host")]
    [InlineData("/ping/job?interval=0", "interval")]
    [InlineData("/ping/job?interval=soon", "interval")]
    [InlineData("/ping/job?msg=line%0Abreak", "msg")]
    public async Task BadPingsGetAProblemAndLeaveNoTrace(string path, string field)
    {
        await using var server = await InProcessServer.StartAsync();

        using var response = await server.Client.GetAsync(path, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"\"field\":\"{field}\"", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Empty(server.HeartbeatMessages());
        Assert.Equal(0, (await server.GetJsonAsync("/api/v1/hosts")).GetProperty("total").GetInt32());
    }
}
