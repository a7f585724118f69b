using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Xml.Linq;
using Heartbeat.Server.Tests.Infrastructure;

namespace Heartbeat.Server.Tests;

/// <summary>Status badges, the public status page and the list's filters, against the real server over HTTP.</summary>
public sealed class BadgeAndPublicStatusTests
{
    private const string ReadToken = "reader-token";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task HostBadgeIsAnSvgAndAShieldsEndpointJsonNamingItsStateAndAnUnknownHostIs404()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { Security = o.Security with { PublicBadges = true } });
        await server.BeatAsync("""{"host": "web1.example.org"}""");
        await server.BeatAsync("""{"host": "db1", "status": "fail", "msg": "disk full"}""");

        using var svg = await server.Client.GetAsync("/badge/web1.example.org.svg", Cancel);
        Assert.Equal(HttpStatusCode.OK, svg.StatusCode);
        Assert.Equal("image/svg+xml", svg.Content.Headers.ContentType?.MediaType);
        Assert.Contains("max-age=30", svg.Headers.CacheControl?.ToString());
        var image = XDocument.Parse(await svg.Content.ReadAsStringAsync(Cancel)); // well-formed XML, or this throws
        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.Equal("web1.example.org: up", image.Root!.Element(ns + "title")!.Value);
        Assert.Contains(image.Descendants(ns + "rect"), r => (string?)r.Attribute("fill") == "#4c1");

        var json = await server.GetJsonAsync("/badge/db1.json");
        Assert.Equal(1, json.GetProperty("schemaVersion").GetInt32());
        Assert.Equal("db1", json.GetProperty("label").GetString());
        Assert.Equal("failing", json.GetProperty("message").GetString());
        Assert.Equal("orange", json.GetProperty("color").GetString());

        using var unknown = await server.Client.GetAsync("/badge/nobody.svg", Cancel);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("unknown", await unknown.Content.ReadAsStringAsync(Cancel));
        using var unknownJson = await server.Client.GetAsync("/badge/nobody.json", Cancel);
        Assert.Equal(HttpStatusCode.NotFound, unknownJson.StatusCode);
        using var noKind = await server.Client.GetAsync("/badge/web1.example.org.png", Cancel);
        Assert.Equal(HttpStatusCode.NotFound, noKind.StatusCode);
    }

    [Fact]
    public async Task GroupBadgeShowsTheWorstStateOfTheGroupsHostsOnly()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { Security = o.Security with { PublicBadges = true } });
        await server.BeatAsync("""{"host": "office-a", "group": "office"}""");
        await server.BeatAsync("""{"host": "office-b", "group": "office"}""");
        await server.BeatAsync("""{"host": "lab-a", "group": "lab"}""");
        await server.BeatAsync("""{"host": "elsewhere", "status": "fail"}"""); // trouble in no group at all

        Assert.Equal("office: up", await BadgeTitleAsync(server, "/badge/group/office.svg"));
        await server.BeatAsync("""{"host": "office-b", "status": "fail", "group": "office"}""");
        Assert.Equal("office: failing", await BadgeTitleAsync(server, "/badge/group/office.svg"));
        Assert.Equal("lab: up", await BadgeTitleAsync(server, "/badge/group/lab.svg"));

        using var none = await server.Client.GetAsync("/badge/group/nobody.svg", Cancel);
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
    }

    [Fact]
    public async Task BadgesNeedTheReadTokenUnlessPublicBadgesOpensThemAndOnlyThem()
    {
        await using (var closed = await InProcessServer.StartAsync(o => o with { Security = o.Security with { ReadToken = ReadToken } }))
        {
            await closed.BeatAsync("""{"host": "web1", "group": "office"}""");
            foreach (var path in new[] { "/badge/web1.svg", "/badge/web1.json", "/badge/group/office.svg" })
            {
                Assert.Equal((path, HttpStatusCode.Unauthorized), (path, await StatusAsync(closed, path)));
                Assert.Equal((path, HttpStatusCode.OK), (path, await StatusAsync(closed, path, ReadToken)));
            }
        }

        await using var open = await InProcessServer.StartAsync(o => o with { Security = o.Security with { ReadToken = ReadToken, PublicBadges = true } });
        await open.BeatAsync("""{"host": "web1", "group": "office"}""");
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(open, "/badge/web1.svg"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(open, "/badge/group/office.svg"));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(open, "/api/v1/hosts/web1"));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(open, "/api/v1/hosts"));
    }

    [Fact]
    public async Task PublicStatusShowsOnlyItsGroupsHostsWithoutATokenAndOpensNothingElse()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { Security = o.Security with { ReadToken = ReadToken, PublicStatus = ["office", "shop"] } });
        await server.BeatAsync("""{"host": "office-printer", "group": "office"}""");
        await server.BeatAsync("""{"host": "till-1", "group": "shop", "status": "fail", "msg": "secret reason"}""");
        await server.BeatAsync("""{"host": "lab-secret", "group": "lab", "status": "fail"}""");
        await server.BeatAsync("""{"host": "no-group-secret"}""");

        using var response = await server.Client.GetAsync("/status", Cancel);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync(Cancel);
        Assert.Contains("data-host=\"office-printer\"", html);
        Assert.Contains("data-host=\"till-1\"", html);
        Assert.DoesNotContain("secret", html); // neither other groups' hosts nor a host's message
        Assert.DoesNotContain("127.0.0.1", html); // nor addresses

        foreach (var path in new[] { "/", "/api/v1/hosts", "/api/v1/hosts/office-printer", "/badge/office-printer.svg", "/api/v1/events" })
        {
            Assert.Equal((path, HttpStatusCode.Unauthorized), (path, await StatusAsync(server, path)));
        }

        await using var without = await InProcessServer.StartAsync();
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(without, "/status"));
    }

    [Fact]
    public async Task ListFiltersByGroupInTheApiAndOnThePageWhoseRowsLinkToEachHostsPageAndSayWhyItFails()
    {
        await using var server = await InProcessServer.StartAsync();
        await server.BeatAsync("""{"host": "office:a", "group": "office"}""");
        await server.BeatAsync("""{"host": "office-b", "group": "office", "status": "fail"}""");
        await server.BeatAsync("""{"host": "lab-a", "group": "lab"}""");
        using (var fail = await server.Client.PostAsync("/ping/backup.example.org/fail", new StringContent("\n  rsync: connection refused\nexit 12\n", Encoding.UTF8), Cancel))
        {
            Assert.Equal(HttpStatusCode.OK, fail.StatusCode);
        }

        var office = await server.GetJsonAsync("/api/v1/hosts?group=office");
        Assert.Equal(["office-b", "office:a"], office.GetProperty("hosts").EnumerateArray().Select(h => h.GetProperty("id").GetString()));
        Assert.False(office.TryGetProperty("total", out _)); // a filter does not count
        var failingOffice = await server.GetJsonAsync("/api/v1/hosts?group=office&state=failing");
        Assert.Equal(["office-b"], failingOffice.GetProperty("hosts").EnumerateArray().Select(h => h.GetProperty("id").GetString()));
        Assert.Empty((await server.GetJsonAsync("/api/v1/hosts?group=nowhere")).GetProperty("hosts").EnumerateArray());

        var page = await server.Client.GetStringAsync("/?group=office", Cancel);
        Assert.Contains("<a href=\"/hosts/office%3Aa\">office:a</a>", page);
        Assert.Contains("<a href=\"/hosts/office-b\">office-<wbr>b</a>", page);
        Assert.DoesNotContain("data-host=\"lab-a\"", page);

        var all = await server.Client.GetStringAsync("/", Cancel);
        Assert.Contains("<a href=\"/hosts/backup.example.org\">backup.<wbr>example.<wbr>org</a><div class=\"reason\">rsync: connection refused</div>", all);
        var reason = (await server.GetHostAsync("backup.example.org")).GetProperty("reason").GetString();
        Assert.Equal("rsync: connection refused", reason);

        using var bad = await server.Client.GetAsync("/?state=sideways", Cancel);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task PageOfMoreHostsThanFitLinksToTheNextPageWhichShowsTheRest()
    {
        await using var server = await InProcessServer.StartAsync(InProcessServer.WithoutRateLimits);
        for (var i = 0; i < 105; i++)
        {
            await server.BeatAsync($$"""{"host": "h{{i:D3}}"}""");
        }

        var first = await server.Client.GetStringAsync("/", Cancel);
        Assert.Contains("data-host=\"h099\"", first);
        Assert.DoesNotContain("data-host=\"h100\"", first);
        var link = System.Text.RegularExpressions.Regex.Match(first, "<a id=\"next-page\" href=\"([^\"]+)\">Next page</a>");
        Assert.True(link.Success, "the first page links to the next");

        var second = await server.Client.GetStringAsync(WebUtility.HtmlDecode(link.Groups[1].Value), Cancel);
        Assert.Equal(["h100", "h101", "h102", "h103", "h104"], System.Text.RegularExpressions.Regex.Matches(second, "data-host=\"(h\\d+)\"").Select(m => m.Groups[1].Value));
        Assert.DoesNotContain("id=\"next-page\"", second);
        Assert.Contains("id=\"first-page\"", second);
    }

    private static async Task<string> BadgeTitleAsync(InProcessServer server, string path)
    {
        using var response = await server.Client.GetAsync(path, Cancel);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        XNamespace ns = "http://www.w3.org/2000/svg";
        return XDocument.Parse(await response.Content.ReadAsStringAsync(Cancel)).Root!.Element(ns + "title")!.Value;
    }

    private static async Task<HttpStatusCode> StatusAsync(InProcessServer server, string path, string? token = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Cancel);
        return response.StatusCode;
    }
}
