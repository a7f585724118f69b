using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using System.Text.Json;
using Heartbeat.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Heartbeat.Server.Tests;

/// <summary>
/// Memory stays bounded whatever clients send: a cap on hosts, a bound on new hosts per address and minute, and a
/// bound on the ping bodies kept. Past a bound the answer says which and why, nothing is logged or changed, and
/// the server's console says so once.
/// </summary>
public sealed class BoundsTests
{
    private static readonly TimeSpan ExitDeadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task NewHostsPastTheCapGet503AndLeaveNoLineWhileKnownHostsAreServedAndTheConsoleWarnsOnce()
    {
        using var directory = new TempDirectory();
        var log = directory.File("heartbeat.log");
        using var server = ServerProcess.Start(["0", "--bind", "127.0.0.1", "--log-file", log, "--max-hosts", "5"]);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{await server.WaitForStartAsync(log)}") };

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await BeatAsync(client, $"capped-{i}"));
        }

        using (var refused = await client.PostAsync("/", Json("""{"host": "capped-5"}"""), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;
            Assert.Contains("--max-hosts 5", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        // More new hosts, by every way in: a ping URL, an admin's PUT; and the known hosts still beat.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await BeatAsync(client, "capped-6"));
        using (var ping = await client.GetAsync("/ping/capped-7", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ping.StatusCode);
        }

        using (var expect = await client.PutAsync("/api/v1/hosts/capped-8", Json("{}"), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, expect.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, await BeatAsync(client, "capped-0"));
        using (var ping = await client.GetAsync("/ping/capped-1", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, ping.StatusCode);
        }

        var hosts = HeartbeatLogFile.HeartbeatMessages(log).Select(m => m[(m.LastIndexOf(' ') + 1)..]).Distinct().Order(StringComparer.Ordinal);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"capped-{i}"), hosts);
        Assert.Equal(5, await TotalHostsAsync(client));
        var metrics = await client.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        Assert.Contains("heartbeat_rejected_total{reason=\"host_limit\"} 4", metrics, StringComparison.Ordinal);
        Assert.Contains("heartbeat_hosts_max 5", metrics, StringComparison.Ordinal);

        // Room again after a host is forgotten: one new host fits, and the next refusal is a new episode with one new warning.
        using (var forgotten = await client.DeleteAsync("/api/v1/hosts/capped-4", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, forgotten.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, await BeatAsync(client, "capped-9"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await BeatAsync(client, "capped-10"));
        await Eventually.TrueAsync(() => CapWarnings(server) == 2, "the second cap warning");
        Assert.Equal(2, CapWarnings(server)); // one for the four refusals before the forget, one after
    }

    [Fact]
    public async Task ARestartWithMoreStoredHostsThanTheCapKeepsAndServesEveryOneAndRefusesOnlyNewHosts()
    {
        using var directory = new TempDirectory();
        var log = directory.File("heartbeat.log");
        string[] stored = ["0", "--bind", "127.0.0.1", "--log-file", log, "--store", "sqlite", "--data", directory.File("heartbeat.db")];
        using (var first = ServerProcess.Start(stored))
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{await first.WaitForStartAsync(log)}") };
            for (var i = 0; i < 8; i++)
            {
                Assert.Equal(HttpStatusCode.OK, await BeatAsync(client, $"stored-{i}"));
            }

            first.Terminate();
            Assert.Equal(0, await first.WaitForExitAsync(ExitDeadline));
        }

        using var second = ServerProcess.Start([.. stored, "--max-hosts", "5"]);
        using (var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{await second.WaitForStartAsync(log, earlierStarts: 1)}") })
        {
            Assert.Equal(8, await TotalHostsAsync(client));
            Assert.Equal(HttpStatusCode.OK, await BeatAsync(client, "stored-7"));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, await BeatAsync(client, "newcomer"));
            Assert.Equal(8, await TotalHostsAsync(client));
        }

        await Eventually.TrueAsync(() => ConsoleOf(second).Contains("Restored 8 hosts, at or past the limit (--max-hosts 5)", StringComparison.Ordinal), "the restore warning");
    }

    [Fact]
    public async Task NewHostsFromOneAddressPastItsBoundGet429WithRetryAfterWhileItsKnownHostsAndOtherAddressesAreServed()
    {
        using var directory = new TempDirectory();
        var log = directory.File("heartbeat.log");
        using var server = ServerProcess.Start(
            ["0", "--bind", "127.0.0.1", "--log-file", log, "--trust-proxy", "127.0.0.1/32", "--max-new-hosts-per-minute", "3"]);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{await server.WaitForStartAsync(log)}") };

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await BeatAsync(client, $"a-{i}", from: "203.0.113.1"));
        }

        using (var limited = await SendAsync(client, "a-3", "203.0.113.1"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
            Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
            var retryAfter = limited.Headers.RetryAfter?.Delta;
            Assert.NotNull(retryAfter);
            Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
            var problem = JsonDocument.Parse(await limited.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;
            Assert.Contains("--max-new-hosts-per-minute", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, await BeatAsync(client, "a-4", from: "203.0.113.1"));
        Assert.Equal(HttpStatusCode.OK, await BeatAsync(client, "a-0", from: "203.0.113.1"));
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await BeatAsync(client, $"b-{i}", from: "203.0.113.2"));
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, await BeatAsync(client, "b-3", from: "203.0.113.2"));

        var hosts = HeartbeatLogFile.HeartbeatMessages(log).Select(m => m[(m.LastIndexOf(' ') + 1)..]).ToHashSet();
        Assert.DoesNotContain("a-3", hosts);
        Assert.DoesNotContain("a-4", hosts);
        Assert.DoesNotContain("b-3", hosts);
        var metrics = await client.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        Assert.Contains("heartbeat_rejected_total{reason=\"new_host_rate\"} 3", metrics, StringComparison.Ordinal);

        // The warning about the second address comes after both of the first's refusals: one line each.
        await Eventually.TrueAsync(() => ConsoleOf(server).Contains("203.0.113.2 added 3 new hosts", StringComparison.Ordinal), "the second address's warning");
        Assert.Single(Lines(server), l => l.Contains("203.0.113.1 added 3 new hosts within a minute", StringComparison.Ordinal));
        Assert.Single(Lines(server), l => l.Contains("203.0.113.2 added 3 new hosts within a minute", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PingBodiesPastTheirMemoryBoundAreNotKeptAndTheApiSaysSoAcrossARestart()
    {
        using var directory = new TempDirectory();
        // Room for two 10,000-character bodies (20,000 bytes each as held), not three.
        Func<Heartbeat.Server.Hosting.ServerOptions, Heartbeat.Server.Hosting.ServerOptions> bounded = o => o with { Hosts = o.Hosts with { MaxBodyMemory = 50_000 } };
        await using (var server = await InProcessServer.StartAsync(bounded, directory: directory))
        {
            foreach (var host in new[] { "job-1", "job-2", "job-3" })
            {
                await PingAsync(server, host, new string('x', 10_000));
            }

            Assert.Equal((true, 10_000), await BodyOfAsync(server, "job-1"));
            Assert.Equal((true, 10_000), await BodyOfAsync(server, "job-2"));
            Assert.Equal((false, -1), await BodyOfAsync(server, "job-3"));

            // A host whose body is kept keeps it current; once one is forgotten, there is room for another.
            await PingAsync(server, "job-1", new string('y', 10_000));
            Assert.Equal((true, 10_000), await BodyOfAsync(server, "job-1"));
            Assert.Equal(1, (int)server.Metrics.PingBodiesDropped.Value);
            using (var forgotten = await server.Client.DeleteAsync("/api/v1/hosts/job-2", TestContext.Current.CancellationToken))
            {
                Assert.Equal(HttpStatusCode.NoContent, forgotten.StatusCode);
            }

            await PingAsync(server, "job-4", new string('z', 10_000));
            Assert.Equal((true, 10_000), await BodyOfAsync(server, "job-4"));
            var metrics = await server.Client.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
            Assert.Contains("heartbeat_ping_body_bytes 40000", metrics, StringComparison.Ordinal);
            Assert.Contains("heartbeat_ping_body_bytes_max 50000", metrics, StringComparison.Ordinal);
        }

        await using var restarted = await InProcessServer.StartAsync(bounded, directory: directory);
        Assert.Equal((true, 10_000), await BodyOfAsync(restarted, "job-1"));
        Assert.Equal((false, -1), await BodyOfAsync(restarted, "job-3"));
    }

    [Fact]
    public async Task HostListsAreTakenUnderTheirConcurrencyLimitAndBeatsAreNot()
    {
        await using var server = await InProcessServer.StartAsync();
        var meters = server.Services.GetRequiredService<IMeterFactory>();
        var leases = new ConcurrentQueue<string>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Scope == meters && instrument.Name == "aspnetcore.rate_limiting.requests")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "aspnetcore.rate_limiting.policy")
                {
                    leases.Enqueue($"{tag.Value}");
                }
            }
        });
        listener.Start();

        await server.BeatAsync("""{"host": "a"}""");
        using (var list = await server.Client.GetAsync("/api/v1/hosts", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        }

        using (var page = await server.Client.GetAsync("/", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        }

        // The list and the page each took a lease of the host-list limiter; the beat took none.
        Assert.Equal(["host-list", "host-list"], leases.ToArray());
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<HttpStatusCode> BeatAsync(HttpClient client, string host, string? from = null)
    {
        using var response = await SendAsync(client, host, from);
        return response.StatusCode;
    }

    // A beat as a client behind the trusted proxy at 127.0.0.1 sends it, from the address the proxy names.
    private static Task<HttpResponseMessage> SendAsync(HttpClient client, string host, string? from)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = Json($$"""{"host": "{{host}}"}""") };
        if (from is not null)
        {
            request.Headers.Add("X-Forwarded-For", from);
        }

        return client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    private static async Task PingAsync(InProcessServer server, string host, string body)
    {
        using var response = await server.Client.PostAsync($"/ping/{host}", new StringContent(body), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    // Whether the host's last body is kept, and its length (-1 for no text).
    private static async Task<(bool Kept, int Length)> BodyOfAsync(InProcessServer server, string host)
    {
        var body = (await server.GetHostAsync(host)).GetProperty("lastBody");
        var text = body.GetProperty("text");
        return (body.GetProperty("kept").GetBoolean(), text.ValueKind == JsonValueKind.Null ? -1 : text.GetString()!.Length);
    }

    private static async Task<int> TotalHostsAsync(HttpClient client)
    {
        var page = JsonDocument.Parse(await client.GetStringAsync("/api/v1/hosts", TestContext.Current.CancellationToken)).RootElement;
        return page.GetProperty("total").GetInt32();
    }

    private static string ConsoleOf(ChildProcess server) => server.StandardOutput + server.StandardError;

    private static string[] Lines(ChildProcess server) => ConsoleOf(server).Split('\n');

    private static int CapWarnings(ChildProcess server) =>
        Lines(server).Count(l => l.Contains("hosts, its limit (--max-hosts 5): beats of new hosts are refused", StringComparison.Ordinal));
}
