using System.Net;
using System.Text;
using Heartbeat.Server.Tests.Infrastructure;

namespace Heartbeat.Server.Tests;

/// <summary>
/// The client libraries of the tools people move from, unchanged, against a real server: Healthchecks.io's JavaScript
/// client (npm, tests/clients) and python-consul (Debian), as a job or a service would run them.
/// </summary>
public sealed class PeerClientTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task HealthchecksOwnClientPingsStartSuccessAndFailAndReadsOk()
    {
        await using var server = await InProcessServer.StartAsync();
        const string check = "5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278";

        using var node = ChildProcess.Start("/usr/bin/node", [Repository.File("tests", "clients", "healthchecks-ping.js"), $"http://127.0.0.1:{server.Port}/ping", check]);
        Assert.True(await node.WaitForExitAsync(Deadline) == 0, node.StandardError);

        Assert.Equal(["success: OK", "start: OK", "success: OK", "fail: OK"], node.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("failing", await server.StateOfAsync(check));
        Assert.Equal(3, server.HeartbeatMessages().Count(m => m.EndsWith($"Host: {check}", StringComparison.Ordinal))); // start is no beat
    }

    [Fact]
    public async Task PythonConsulsTtlUpdatesBySendingGetAreBeats()
    {
        await using var server = await InProcessServer.StartAsync();
        var script = $"""
            import consul
            agent = consul.Consul(host="127.0.0.1", port={server.Port}).agent
            print(agent.check.ttl_pass("service:db1", "replication ok"))
            print(agent.check.ttl_warn("service:db2", "lag 30s"))
            """;

        using var python = ChildProcess.Start("/usr/bin/python3", ["-c", script]);
        Assert.True(await python.WaitForExitAsync(Deadline) == 0, python.StandardError);

        Assert.Equal(["True", "True"], python.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var db1 = await server.GetHostAsync("service:db1");
        Assert.Equal(("up", "replication ok"), (db1.GetProperty("state").GetString(), db1.GetProperty("message").GetString()));
        Assert.Equal("failing", await server.StateOfAsync("service:db2"));
    }

    [Fact]
    public async Task ConsulsCheckUpdateTakesItsStatusAndOutputAndItsTokenHeader()
    {
        await using var server = await InProcessServer.StartAsync(options => options with { Security = options.Security with { Token = "beat-secret" } });

        using var refused = await UpdateAsync(server, "service:web1", """{"Status": "passing"}""", token: null);
        using var passing = await UpdateAsync(server, "service:web1", """{"Status": "passing", "Output": "HTTP 200"}""", "beat-secret");
        using var critical = await UpdateAsync(server, "service:web2", """{"Status": "critical", "Output": "HTTP 503"}""", "beat-secret");
        using var unknown = await UpdateAsync(server, "service:web3", """{"Status": "sideways"}""", "beat-secret");

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal((HttpStatusCode.OK, string.Empty), (passing.StatusCode, await passing.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)));
        var web2 = await server.GetHostAsync("service:web2");
        Assert.Equal(("failing", "HTTP 503"), (web2.GetProperty("state").GetString(), web2.GetProperty("message").GetString()));
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal(2, server.HeartbeatMessages().Length);
    }

    [Fact]
    public async Task AnUptimeKumaPendingPushCountsAsDownAndIsAnsweredAsKumaAnswers()
    {
        await using var server = await InProcessServer.StartAsync();

        using var response = await server.Client.GetAsync("/api/push/nas-backup?status=pending&msg=no%20reply&ping=", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"ok":true}""", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal("failing", await server.StateOfAsync("nas-backup"));
    }

    [Fact]
    public async Task HealthchecksPingKeyUrlsCarryTheBeatToken()
    {
        await using var server = await InProcessServer.StartAsync(options => options with { Security = options.Security with { Token = "ping-key" } });

        using var wrongKey = await server.Client.GetAsync("/ping/other-key/nightly-backup", TestContext.Current.CancellationToken);
        using var beat = await server.Client.GetAsync("/ping/ping-key/nightly-backup", TestContext.Current.CancellationToken);
        using var failed = await server.Client.PostAsync("/ping/ping-key/nightly-backup/fail", new StringContent("rsync: connection refused", Encoding.UTF8), TestContext.Current.CancellationToken);
        using var exitCode = await server.Client.GetAsync("/ping/ping-key/nightly-backup/0", TestContext.Current.CancellationToken);
        using var shortForm = await server.Client.GetAsync("/ping/nightly-backup", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Forbidden, wrongKey.StatusCode);
        Assert.Equal("OK", await beat.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.Equal("text/plain", beat.Content.Headers.ContentType?.MediaType);
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (failed.StatusCode, exitCode.StatusCode));
        Assert.Equal(HttpStatusCode.Unauthorized, shortForm.StatusCode);
        Assert.Equal("up", await server.StateOfAsync("nightly-backup"));
        Assert.Equal(3, server.HeartbeatMessages().Length);
    }

    private static Task<HttpResponseMessage> UpdateAsync(InProcessServer server, string check, string body, string? token)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, $"/v1/agent/check/update/{check}") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (token is not null)
        {
            request.Headers.Add("X-Consul-Token", token);
        }

        return server.Client.SendAsync(request, TestContext.Current.CancellationToken);
    }
}
