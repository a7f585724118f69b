using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using Heartbeat.Server.Tests.Infrastructure;

namespace Heartbeat.Server.Tests;

/// <summary>Each built-in control against the real server: tokens, allow-list, proxies, rate limits, TLS, headers, metrics, health.</summary>
public sealed class SecurityTests
{
    private const string Secret = "s3cret-token-value";

    [Fact]
    public async Task WithASharedTokenBeatsWithoutItAreRefusedAndTheTokenIsNeverLogged()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { Security = o.Security with { Token = Secret } });

        using var missing = await server.PostAsync("""{"host": "web1"}""");
        using var wrong = await SendAsync(server, HttpMethod.Post, "/", "wrong", """{"host": "web1"}""");
        using var bearer = await SendAsync(server, HttpMethod.Post, "/", Secret, """{"host": "web1"}""");
        using var field = await server.PostAsync($$"""{"host": "web2", "token": "{{Secret}}"}""");
        using var ping = await server.Client.GetAsync($"/ping/cron-job?token={Secret}", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal("Bearer", missing.Headers.WwwAuthenticate.ToString());
        Assert.Contains("beat token", await missing.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.OK, bearer.StatusCode);
        Assert.Equal(HttpStatusCode.OK, field.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ping.StatusCode);
        Assert.Equal(3, server.HeartbeatMessages().Length);
        Assert.DoesNotContain(Secret, await File.ReadAllTextAsync(server.LogPath, TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PerHostTokensComeFromAFileThatIsReloadedWhenItChanges()
    {
        using var directory = new TempDirectory();
        var file = directory.File("tokens");
        await File.WriteAllTextAsync(file, "# host token\nweb1 token-a\nweb2 token-b\n", TestContext.Current.CancellationToken);
        await using var server = await InProcessServer.StartAsync(o => o with { Security = o.Security with { TokensFile = file } });

        using (var othersToken = await SendAsync(server, HttpMethod.Post, "/", "token-b", """{"host": "web1"}"""))
        using (var ownToken = await SendAsync(server, HttpMethod.Post, "/", "token-a", """{"host": "web1"}"""))
        {
            Assert.Equal(HttpStatusCode.Forbidden, othersToken.StatusCode);
            Assert.Equal(HttpStatusCode.OK, ownToken.StatusCode);
        }

        await File.WriteAllTextAsync(file, "web1 token-c\n", TestContext.Current.CancellationToken);
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddMinutes(1));

        await Eventually.TrueAsync(
            () =>
            {
                using var response = SendAsync(server, HttpMethod.Post, "/", "token-c", """{"host": "web1"}""").GetAwaiter().GetResult();
                return response.StatusCode == HttpStatusCode.OK;
            },
            "the new token to be accepted");
        using var oldToken = await SendAsync(server, HttpMethod.Post, "/", "token-a", """{"host": "web1"}""");
        Assert.Equal(HttpStatusCode.Forbidden, oldToken.StatusCode);
    }

    [Fact]
    public async Task ReadAndAdminTokensGuardThePageTheApiAndTheAdminActions()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { Security = o.Security with { ReadToken = "reader", AdminToken = "admin" } });
        await server.BeatAsync("""{"host": "web1"}"""); // beats stay open: only reading and admin need tokens here

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusOfAsync(server, HttpMethod.Get, "/", token: null));
        Assert.Equal(HttpStatusCode.OK, await StatusOfAsync(server, HttpMethod.Get, "/?token=reader", token: null));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusOfAsync(server, HttpMethod.Get, "/api/v1/hosts", token: null));
        Assert.Equal(HttpStatusCode.OK, await StatusOfAsync(server, HttpMethod.Get, "/api/v1/hosts", "reader"));
        Assert.Equal(HttpStatusCode.OK, await StatusOfAsync(server, HttpMethod.Get, "/api/v1/hosts", "admin"));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusOfAsync(server, HttpMethod.Get, "/metrics", token: null));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusOfAsync(server, HttpMethod.Delete, "/api/v1/hosts/web1", "reader"));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusOfAsync(server, HttpMethod.Post, "/api/v1/notifiers/test", "reader"));
        Assert.Equal(HttpStatusCode.NoContent, await StatusOfAsync(server, HttpMethod.Delete, "/api/v1/hosts/web1", "admin"));
        Assert.Equal(HttpStatusCode.OK, await StatusOfAsync(server, HttpMethod.Get, "/healthz", token: null));
    }

    [Fact]
    public async Task AddressesOutsideTheAllowListAreRefusedAndLeaveNoTrace()
    {
        await using var refusing = await InProcessServer.StartAsync(o => o with { Security = o.Security with { Allow = [IPNetwork.Parse("10.0.0.0/8")] } });
        await using var allowing = await InProcessServer.StartAsync(o => o with { Security = o.Security with { Allow = [IPNetwork.Parse("127.0.0.0/8")] } });

        using var refused = await refusing.PostAsync("""{"host": "web1"}""");
        using var page = await refusing.Client.GetAsync("/", TestContext.Current.CancellationToken);
        using var accepted = await allowing.PostAsync("""{"host": "web1"}""");

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Forbidden, page.StatusCode);
        Assert.Empty(refusing.HeartbeatMessages());
        Assert.Equal(2, (int)refusing.Metrics.HeartbeatsRejected.WithLabels("not_allowed").Value);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Fact]
    public async Task ForwardedForIsBelievedOnlyFromTrustedProxies()
    {
        await using var trusting = await InProcessServer.StartAsync(o => o with { Security = o.Security with { TrustProxy = [IPNetwork.Parse("127.0.0.1/32")] } });
        await using var ignoring = await InProcessServer.StartAsync();

        foreach (var server in new[] { trusting, ignoring })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new StringContent("{}") };
            request.Headers.Add("X-Forwarded-For", "203.0.113.9");
            using var response = await server.Client.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(["Received heartbeat - From: 203.0.113.9, Reported IP: -"], trusting.HeartbeatMessages());
        Assert.Equal(["Received heartbeat - From: 127.0.0.1, Reported IP: -"], ignoring.HeartbeatMessages());
    }

    [Fact]
    public async Task AFloodFromOneAddressIsLimitedWhileAnotherAddressIsServed()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { Security = o.Security with { RequestsPerSecondPerAddress = 2 } });
        using var other = FromAddress(IPAddress.Parse("127.0.0.2"), server.Port);
        // A first beat from elsewhere warms the server up: the burst below must fit in the second before the bucket refills.
        (await other.PostAsync("/", new StringContent("""{"host": "warm-up"}"""), TestContext.Current.CancellationToken)).Dispose();

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        var flood = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 40 && limited is null; i++)
        {
            var response = await server.PostAsync($$"""{"host": "flood-{{i}}"}""");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                limited = response;
            }
            else
            {
                response.Dispose();
            }
        }

        Assert.NotNull(limited);
        using (limited)
        {
            Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
            Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        }

        // A burst of ten times the rate, then the rate: 2 more for each second the flood took on a busy machine.
        Assert.InRange(statuses.Count(s => s == HttpStatusCode.OK), 20, 20 + (2 * (int)Math.Ceiling(flood.Elapsed.TotalSeconds)));
        Assert.Equal(1, (int)server.Metrics.HeartbeatsRejected.WithLabels("rate_limited").Value);
        using var served = await other.PostAsync("/", new StringContent("""{"host": "neighbour"}"""), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Contains("Received heartbeat - From: 127.0.0.2, Reported IP: -, Host: neighbour", server.HeartbeatMessages());
    }

    [Fact]
    public async Task AHostBeatingTooFastIsLimitedWithoutSlowingOtherHosts()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { Security = o.Security with { BeatsPerSecondPerHost = 1 } });

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 12; i++)
        {
            using var response = await server.PostAsync("""{"host": "chatty"}""");
            statuses.Add(response.StatusCode);
        }

        using var quiet = await server.PostAsync("""{"host": "quiet"}""");
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        Assert.Equal(HttpStatusCode.OK, quiet.StatusCode);
        Assert.Equal(statuses.Count(s => s == HttpStatusCode.OK) + 1, server.HeartbeatMessages().Length);
    }

    [Fact]
    public async Task WithACertificateTheServerSpeaksHttpsAndHttp2()
    {
        using var directory = new TempDirectory();
        var (cert, key, thumbprint) = TestCertificate.Write(directory);
        await using var server = await InProcessServer.StartAsync(o => o with { Security = o.Security with { TlsCertificate = cert, TlsKey = key } });
        // Trust exactly the certificate the test made, as a client pinning it would.
        using var handler = new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, presented, _, _) => presented?.GetCertHashString() == thumbprint } };
        using var client = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{server.Port}") };

        using var request = new HttpRequestMessage(HttpMethod.Post, "/")
        {
            Content = new StringContent("""{"host": "secure"}"""),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal(["Received heartbeat - From: 127.0.0.1, Reported IP: -, Host: secure"], server.HeartbeatMessages());
    }

    [Fact]
    public async Task ThePageForbidsInlineScriptFramingAndSniffing()
    {
        await using var server = await InProcessServer.StartAsync();

        using var response = await server.Client.GetAsync("/", TestContext.Current.CancellationToken);

        var policy = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", policy, StringComparison.Ordinal);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Fact]
    public async Task MetricsCountBeatsRejectionsHostsAndEvents()
    {
        await using var server = await InProcessServer.StartAsync();
        await server.BeatAsync("""{"host": "a"}""");
        await server.BeatAsync("""{"host": "b", "status": "fail"}""");
        (await server.PostAsync("""{"ip": "nope"}""")).Dispose();

        var metrics = await Eventually.ValueAsync(
            () =>
            {
                var text = server.Client.GetStringAsync("/metrics", TestContext.Current.CancellationToken).GetAwaiter().GetResult();
                return text.Contains("heartbeat_events_total{kind=\"failing\"} 1", StringComparison.Ordinal) ? text : null;
            },
            "the events to be counted");

        Assert.Contains("heartbeat_received_total 2", metrics, StringComparison.Ordinal);
        Assert.Contains("heartbeat_rejected_total{reason=\"invalid\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("heartbeat_hosts{state=\"up\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("heartbeat_hosts{state=\"failing\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("heartbeat_events_total{kind=\"new\"} 2", metrics, StringComparison.Ordinal);
        Assert.Contains("heartbeat_log_batches_total", metrics, StringComparison.Ordinal);
        Assert.Contains("heartbeat_store_flush_seconds_count", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HealthSaysHealthyWhenLogAndStoreWork()
    {
        await using var server = await InProcessServer.StartAsync();

        using var response = await server.Client.GetAsync("/healthz", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var health = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;
        Assert.Equal("Healthy", health.GetProperty("status").GetString());
        Assert.Equal("Healthy", health.GetProperty("checks").GetProperty("heartbeat-log").GetProperty("status").GetString());
        Assert.Equal("Healthy", health.GetProperty("checks").GetProperty("store").GetProperty("status").GetString());
    }

    private static Task<HttpResponseMessage> SendAsync(InProcessServer server, HttpMethod method, string path, string? token, string? body = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = body is null ? null : new StringContent(body) };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return server.Client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    private static async Task<HttpStatusCode> StatusOfAsync(InProcessServer server, HttpMethod method, string path, string? token)
    {
        using var response = await SendAsync(server, method, path, token);
        return response.StatusCode;
    }

    /// <summary>A client whose connections come from another loopback address (all of 127.0.0.0/8 is this machine).</summary>
    private static HttpClient FromAddress(IPAddress source, int port) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(source, 0));
            await socket.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        },
    })
    { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
}
