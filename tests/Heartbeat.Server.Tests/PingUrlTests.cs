using System.Net;
using System.Text;
using Heartbeat.Server.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Heartbeat.Server.Tests;

/// <summary>Cron-style ping URLs, shaped like Healthchecks.io's: what a crontab line with curl needs, checked like a JSON beat.</summary>
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

    [Fact]
    public async Task ExitCodesAreSuccessOrFailureAsAWrapperScriptSendsThem()
    {
        await using var server = await InProcessServer.StartAsync();

        using var ok = await server.Client.GetAsync("/ping/backup/0", TestContext.Current.CancellationToken);
        var afterSuccess = await server.StateOfAsync("backup");
        using var failed = await server.Client.PostAsync("/ping/backup/3", null, TestContext.Current.CancellationToken);
        using var outOfRange = await server.Client.GetAsync("/ping/backup/256", TestContext.Current.CancellationToken);

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.BadRequest), (ok.StatusCode, failed.StatusCode, outOfRange.StatusCode));
        Assert.Equal("up", afterSuccess);
        var host = await server.GetHostAsync("backup");
        Assert.Equal(("failing", "exit status 3"), (host.GetProperty("state").GetString(), host.GetProperty("message").GetString()));
        Assert.Contains("Host failing - backup (exit status 3)", HeartbeatLogFile.ReadMessages(server.LogPath));
        Assert.Equal(2, server.HeartbeatMessages().Length);
    }

    [Fact]
    public async Task StartThenSuccessRecordsHowLongTheRunTookAndStartAloneIsNoBeat()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 2, 8, 3, 0, 0, TimeSpan.Zero));
        await using var server = await InProcessServer.StartAsync(time: time);
        using var unknown = await server.Client.GetAsync("/ping/backup/start", TestContext.Current.CancellationToken);
        await server.Client.GetAsync("/ping/backup", TestContext.Current.CancellationToken);

        using var start = await server.Client.GetAsync("/ping/backup/start", TestContext.Current.CancellationToken);
        var running = await server.GetHostAsync("backup");
        time.Advance(TimeSpan.FromSeconds(42));
        await server.Client.GetAsync("/ping/backup", TestContext.Current.CancellationToken);
        var done = await server.GetHostAsync("backup");

        Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.OK), (unknown.StatusCode, start.StatusCode));
        Assert.Contains("its first beat (/ping/backup) makes it known", await unknown.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Equal((1, time.GetUtcNow().AddSeconds(-42)), (running.GetProperty("beats").GetInt32(), running.GetProperty("startedAt").GetDateTimeOffset()));
        Assert.Equal((42.0, System.Text.Json.JsonValueKind.Null), (done.GetProperty("lastRunSeconds").GetDouble(), done.GetProperty("startedAt").ValueKind));
        Assert.Equal(2, server.HeartbeatMessages().Length);
    }

    [Fact]
    public async Task APostedBodyIsKeptUpToTheLimitCutOnACharacterAndNeverLogged()
    {
        await using var server = await InProcessServer.StartAsync();
        var output = "rsync: " + string.Concat(Enumerable.Repeat("é", 6000)); // 12,007 bytes of UTF-8

        using var response = await server.Client.PostAsync("/ping/backup/fail", new StringContent(output, Encoding.UTF8, "text/plain"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("10000", response.Headers.GetValues("Ping-Body-Limit").Single());
        var body = (await server.GetHostAsync("backup")).GetProperty("lastBody");
        var text = body.GetProperty("text").GetString()!;
        Assert.Equal(("fail", 9999), (body.GetProperty("kind").GetString(), Encoding.UTF8.GetByteCount(text)));
        Assert.StartsWith(text, output, StringComparison.Ordinal);
        Assert.DoesNotContain(HeartbeatLogFile.ReadLines(server.LogPath), line => line.Contains("rsync", StringComparison.Ordinal));
        var list = await server.GetJsonAsync("/api/v1/hosts");
        Assert.Equal(System.Text.Json.JsonValueKind.Null, list.GetProperty("hosts")[0].GetProperty("lastBody").ValueKind); // lists stay small
    }

    [Fact]
    public async Task LogKeepsItsBodyWithoutCountingAsABeat()
    {
        await using var server = await InProcessServer.StartAsync();
        await server.Client.GetAsync("/ping/backup", TestContext.Current.CancellationToken);

        using var response = await server.Client.PostAsync("/ping/backup/log", new StringContent("52 GB to go"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var host = await server.GetHostAsync("backup");
        Assert.Equal((1, "log", "52 GB to go"), (host.GetProperty("beats").GetInt32(), host.GetProperty("lastBody").GetProperty("kind").GetString(), host.GetProperty("lastBody").GetProperty("text").GetString()));
        Assert.Single(server.HeartbeatMessages());
    }
}
