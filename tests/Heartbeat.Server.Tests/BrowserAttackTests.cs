using System.Net;
using System.Text;
using System.Text.Json;
using Heartbeat.Server.Tests.Infrastructure;

namespace Heartbeat.Server.Tests;

/// <summary>
/// Other web sites, through the browser of someone who can reach the server: cross-site forms and text/plain beats
/// change nothing, and a DNS-rebinding page (a name of its own pointed at the server) reads nothing. The server runs
/// without tokens and the requests come from this machine, where changes are otherwise allowed: the worst case.
/// </summary>
public sealed class BrowserAttackTests
{
    private const string Evil = "http://evil.example";

    [Fact]
    public async Task AFormOnAnotherSiteCannotPutAHostIntoMaintenance()
    {
        await using var server = await InProcessServer.StartAsync();
        await server.BeatAsync("""{"host": "web1"}""");

        foreach (var (header, value) in new[] { ("Origin", Evil), ("Origin", "null"), ("Sec-Fetch-Site", "cross-site"), ("Sec-Fetch-Site", "same-site") })
        {
            using var response = await SendAsync(server, HttpMethod.Post, "/api/v1/hosts/web1/maintenance?for=30d", (header, value), Form());
            Assert.Equal((value, HttpStatusCode.Forbidden), (value, response.StatusCode));
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        using (var forget = await SendAsync(server, HttpMethod.Delete, "/api/v1/hosts/web1", ("Origin", Evil)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, forget.StatusCode);
        }

        Assert.False(await InMaintenanceAsync(server, "web1"));
        Assert.Equal(5, (int)server.Metrics.HeartbeatsRejected.WithLabels("cross_origin").Value);
    }

    [Fact]
    public async Task ATextPlainBeatFromAnotherSiteIsRefusedAndSilencesNoHost()
    {
        await using var server = await InProcessServer.StartAsync();
        await server.BeatAsync("""{"host": "web1"}""");
        const string silencer = """{"host":"web1","maintenance":2592000,"x":"="}""";

        using (var withOrigin = await SendAsync(server, HttpMethod.Post, "/", ("Origin", Evil), new StringContent(silencer, Encoding.UTF8, "text/plain")))
        using (var withFetchSite = await SendAsync(server, HttpMethod.Post, "/", ("Sec-Fetch-Site", "cross-site"), new StringContent(silencer, Encoding.UTF8, "text/plain")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, withOrigin.StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, withFetchSite.StatusCode);
        }

        Assert.False(await InMaintenanceAsync(server, "web1"));
        Assert.Single(server.HeartbeatMessages());
    }

    [Fact]
    public async Task APingUrlOpenedFromAnotherSiteIsRefusedButOneFromABookmarkIsABeat()
    {
        await using var server = await InProcessServer.StartAsync();

        using var linked = await SendAsync(server, HttpMethod.Get, "/ping/backup", ("Sec-Fetch-Site", "cross-site"));
        using var fetched = await SendAsync(server, HttpMethod.Get, "/ping/backup/fail", ("Origin", Evil));
        using var bookmarked = await SendAsync(server, HttpMethod.Get, "/ping/backup", ("Sec-Fetch-Site", "none"));

        Assert.Equal(HttpStatusCode.Forbidden, linked.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, fetched.StatusCode);
        Assert.Equal(HttpStatusCode.OK, bookmarked.StatusCode);
        Assert.Equal(["Received heartbeat - From: 127.0.0.1, Reported IP: -, Host: backup"], server.HeartbeatMessages());
    }

    [Fact]
    public async Task TheServersOwnPageAndClientsThatSendNoOriginStillMakeChanges()
    {
        await using var server = await InProcessServer.StartAsync();
        await server.BeatAsync("""{"host": "web1"}""");
        var ownOrigin = $"http://127.0.0.1:{server.Port}";

        using var sameOrigin = await SendAsync(server, HttpMethod.Post, "/api/v1/hosts/web1/maintenance?for=1h", ("Origin", ownOrigin));
        using var sameOriginFetch = await SendAsync(server, HttpMethod.Delete, "/api/v1/hosts/web1/maintenance", ("Sec-Fetch-Site", "same-origin"));
        using var curl = await SendAsync(server, HttpMethod.Post, "/", header: null, new StringContent("""{"host": "web2", "maintenance": 60}"""));

        Assert.Equal(HttpStatusCode.OK, sameOrigin.StatusCode);
        Assert.Equal(HttpStatusCode.OK, sameOriginFetch.StatusCode);
        Assert.Equal(HttpStatusCode.OK, curl.StatusCode);
        Assert.True(await InMaintenanceAsync(server, "web2"));
    }

    [Fact]
    public async Task ANameTheServerDoesNotKnowGets421FromThePageTheApiTheEventsAndMetrics()
    {
        await using var server = await InProcessServer.StartAsync();
        await server.BeatAsync("""{"host": "secret-db"}""");

        foreach (var path in new[] { "/", "/api/v1/hosts", "/api/v1/hosts/secret-db", "/api/v1/events", "/metrics", "/login", "/assets/status.js" })
        {
            using var response = await SendAsync(server, HttpMethod.Get, path, ("Host", $"rebind.evil.example:{server.Port}"));
            var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            Assert.Equal((path, HttpStatusCode.MisdirectedRequest), (path, response.StatusCode));
            Assert.DoesNotContain("secret-db", body, StringComparison.Ordinal);
            Assert.Contains("--allowed-host", body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AddressesLocalhostAndTheMachinesOwnNameAreAnswered()
    {
        await using var server = await InProcessServer.StartAsync();

        foreach (var name in new[] { "127.0.0.1", "localhost", "app.localhost", "[::1]", Dns.GetHostName(), "LOCALHOST" })
        {
            using var response = await SendAsync(server, HttpMethod.Get, "/api/v1/hosts", ("Host", $"{name}:{server.Port}"));
            Assert.Equal((name, HttpStatusCode.OK), (name, response.StatusCode));
        }
    }

    [Fact]
    public async Task NamesGivenWithPublicUrlOrAllowedHostAreAnsweredAndNoOthers()
    {
        await using var server = await InProcessServer.StartAsync(o => o with
        {
            Security = o.Security with { PublicUrl = new Uri("https://status.example.org/"), AllowedHosts = ["monitor.example.org", "*.ops.example.org"] },
        });

        foreach (var (name, expected) in new[]
        {
            ("status.example.org", HttpStatusCode.OK),
            ("monitor.example.org", HttpStatusCode.OK),
            ("db.ops.example.org", HttpStatusCode.OK),
            ("example.org", HttpStatusCode.MisdirectedRequest),
            ("monitor.example.org.evil.example", HttpStatusCode.MisdirectedRequest),
        })
        {
            using var response = await SendAsync(server, HttpMethod.Get, "/", ("Host", name));
            Assert.Equal((name, expected), (name, response.StatusCode));
        }

        // A proxy that passes on its own Host still serves the public page, whose forms come from the public origin.
        await server.BeatAsync("""{"host": "web1"}""");
        using var viaProxy = await SendAsync(server, HttpMethod.Delete, "/api/v1/hosts/web1", ("Origin", "https://status.example.org"));
        Assert.Equal(HttpStatusCode.NoContent, viaProxy.StatusCode);
    }

    [Fact]
    public async Task BeatsArriveUnderAnyNameButNotFromARebindingPage()
    {
        await using var server = await InProcessServer.StartAsync();
        var rebound = $"rebind.evil.example:{server.Port}";

        using var agent = await SendAsync(server, HttpMethod.Post, "/", ("Host", "monitor.corp.example"), new StringContent("""{"host": "web1"}"""));
        using var cron = await SendAsync(server, HttpMethod.Get, "/ping/backup", ("Host", "monitor.corp.example"));
        using var health = await SendAsync(server, HttpMethod.Get, "/healthz", ("Host", "lb-check.corp.example"));
        using var page = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new StringContent("""{"host": "web2", "maintenance": 2592000}""", Encoding.UTF8, "text/plain") };
        page.Headers.Host = rebound;
        page.Headers.Add("Origin", $"http://{rebound}"); // same-origin, as the browser sees it
        using var rebinding = await server.Client.SendAsync(page, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, agent.StatusCode);
        Assert.Equal(HttpStatusCode.OK, cron.StatusCode);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.MisdirectedRequest, rebinding.StatusCode);
        Assert.Null(await server.FindHostAsync("web2"));
    }

    private static async Task<bool> InMaintenanceAsync(InProcessServer server, string id) =>
        (await server.GetHostAsync(id)).GetProperty("maintenanceUntil").ValueKind != JsonValueKind.Null;

    private static StringContent Form() => new("x=y", Encoding.UTF8, "application/x-www-form-urlencoded");

    private static Task<HttpResponseMessage> SendAsync(InProcessServer server, HttpMethod method, string path, (string Name, string Value)? header, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        if (header is ("Host", var host))
        {
            request.Headers.Host = host;
        }
        else if (header is var (name, value))
        {
            request.Headers.Add(name, value);
        }

        return server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
    }
}
