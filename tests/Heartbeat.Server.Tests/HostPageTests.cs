using System.Net;
using System.Text.Json;
using Heartbeat.Server.Hosting;
using Heartbeat.Server.Notify;
using Heartbeat.Server.Tests.Infrastructure;
using Heartbeat.Server.Web;

namespace Heartbeat.Server.Tests;

/// <summary>The page of one host, /hosts/{id}, and its admin forms, against the real server over HTTP.</summary>
public sealed class HostPageTests
{
    private const string ReadToken = "reader-token";
    private const string AdminToken = "admin-token";

    [Fact]
    public async Task TheHostPageShowsItsStateAddressesEventsFailingReasonAndLivenessWithTheirSource()
    {
        await using var server = await InProcessServer.StartAsync();
        await server.BeatAsync("""{"host": "web1", "ip": "10.0.0.1", "interval": 60}""");
        await server.BeatAsync("""{"host": "web1", "ip": "10.0.0.2", "interval": 60, "status": "fail", "msg": "backup <failed>"}""");
        using (var log = await server.Client.PostAsync("/ping/web1/log", new StringContent("disk <full> on /var"), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, log.StatusCode);
        }

        using var visitor = new PageSession(server);
        var (status, html) = await visitor.GetPageAsync("/hosts/web1");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("<span id=\"state\" class=\"state state-failing\">failing</span> since", html, StringComparison.Ordinal);
        Assert.Contains("<dd id=\"reported-ip\">10.0.0.2</dd>", html, StringComparison.Ordinal);
        Assert.Contains("<dd id=\"peer\">127.0.0.1</dd>", html, StringComparison.Ordinal);
        Assert.Contains("<td>reported-ip</td><td>10.0.0.1</td><td>10.0.0.2</td>", html, StringComparison.Ordinal);
        Assert.Contains("IP changed - web1", html, StringComparison.Ordinal);
        Assert.Contains("<dd id=\"message\">backup &lt;failed&gt;</dd>", html, StringComparison.Ordinal);
        Assert.Contains("<pre id=\"body\">disk &lt;full&gt; on /var</pre>", html, StringComparison.Ordinal);
        Assert.Contains("<dd data-setting=\"interval\">60s (declared)</dd>", html, StringComparison.Ordinal);
        Assert.Contains("<dd data-setting=\"misses\">", html, StringComparison.Ordinal);
        Assert.Contains("data-uptime=\"24h\"", html, StringComparison.Ordinal);
        var strip = html[html.IndexOf("<div class=\"strip\" id=\"strip\">", StringComparison.Ordinal)..];
        Assert.Equal(HostPageView.StripSlots, strip[..strip.IndexOf("</div>", StringComparison.Ordinal)].Split("<span class=\"slot slot-").Length - 1);
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnknownHostsPageIs404AndSaysSo()
    {
        await using var server = await InProcessServer.StartAsync();
        using var visitor = new PageSession(server);

        var (status, html) = await visitor.GetPageAsync("/hosts/nobody");

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("No host is known by this name", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheApiHostViewCarriesUptimeForTheDayWeekAndMonthButTheListDoesNot()
    {
        await using var server = await InProcessServer.StartAsync();
        await server.BeatAsync("""{"host": "web1"}""");

        var host = await server.GetHostAsync("web1");
        var list = await server.GetJsonAsync("/api/v1/hosts");

        var uptime = host.GetProperty("uptime");
        Assert.Equal(1.0, uptime.GetProperty("24h").GetDouble());
        Assert.Equal(1.0, uptime.GetProperty("7d").GetDouble());
        Assert.Equal(1.0, uptime.GetProperty("30d").GetDouble());
        Assert.False(list.GetProperty("hosts")[0].TryGetProperty("uptime", out _));
    }

    [Fact]
    public async Task AReadSessionSeesNoFormsAndCannotChangeAnythingWithThePagesToken()
    {
        await using var server = await StartWithTokensAsync();
        await server.BeatAsync("""{"host": "web1"}""");
        using var reader = await PageSession.LogInAsync(server, ReadToken);

        var (status, html) = await reader.GetPageAsync("/hosts/web1");
        using var refused = await reader.PostFormAsync("/hosts/web1", "/hosts/web1/maintenance", new() { ["for"] = "1h" });
        using var forget = await reader.PostFormAsync("/hosts/web1", "/hosts/web1/forget");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.DoesNotContain("action=\"/hosts/web1/", html, StringComparison.Ordinal);
        Assert.DoesNotContain("Actions", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, forget.StatusCode);
        await AssertUnchangedAsync(server);
    }

    [Fact]
    public async Task AnAdminSessionStartsAndEndsMaintenanceSetsSettingsSendsATestAndForgetsAfterConfirming()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await StartWithTokensAsync(o => o with { Notify = o.Notify with { Webhooks = [WebhookSpec.Parse(receiver.Url.ToString())] } });
        await server.BeatAsync("""{"host": "web1"}""");
        using var admin = await PageSession.LogInAsync(server, AdminToken);

        await ActAsync(admin, "/hosts/web1/maintenance", new() { ["for"] = "2h" }, "maintenance-started", "Maintenance started");
        var until = (await HostAsync(server)).GetProperty("maintenanceUntil").GetDateTimeOffset();
        Assert.InRange(until - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(119), TimeSpan.FromMinutes(121));
        Assert.Contains("id=\"end-maintenance\"", (await admin.GetPageAsync("/hosts/web1")).Html, StringComparison.Ordinal);

        await ActAsync(admin, "/hosts/web1/maintenance/end", null, "maintenance-ended", "Maintenance ended.");
        Assert.Equal(JsonValueKind.Null, (await HostAsync(server)).GetProperty("maintenanceUntil").ValueKind);

        var settings = new Dictionary<string, string> { ["interval"] = "5m", ["grace"] = "90", ["misses"] = "3", ["schedule"] = "", ["timezone"] = "" };
        await ActAsync(admin, "/hosts/web1/settings", settings, "settings-saved", "Settings saved.");
        var liveness = (await HostAsync(server)).GetProperty("liveness");
        Assert.Equal((300.0, "configured", 90.0, "configured", 3, "configured"), (
            liveness.GetProperty("intervalSeconds").GetDouble(), liveness.GetProperty("intervalSource").GetString(),
            liveness.GetProperty("graceSeconds").GetDouble(), liveness.GetProperty("graceSource").GetString(),
            liveness.GetProperty("misses").GetInt32(), liveness.GetProperty("missesSource").GetString()));
        var page = (await admin.GetPageAsync("/hosts/web1")).Html;
        Assert.Contains("name=\"interval\" value=\"5m\"", page, StringComparison.Ordinal); // what was set, ready to change again
        Assert.Contains("<dd data-setting=\"interval\">5m (configured)</dd>", page, StringComparison.Ordinal);

        await ActAsync(admin, "/hosts/web1/settings", new() { ["interval"] = "", ["grace"] = "", ["misses"] = "" }, "settings-saved", "Settings saved.");
        Assert.Equal("default", (await HostAsync(server)).GetProperty("liveness").GetProperty("intervalSource").GetString());

        await ActAsync(admin, "/hosts/web1/test-notification", null, "test-queued", "A test notification is on its way");
        await receiver.WaitForAsync(_ => true, "the test notification");

        var confirm = (await admin.GetPageAsync("/hosts/web1?confirm=forget")).Html;
        Assert.Contains("action=\"/hosts/web1/forget\"", confirm, StringComparison.Ordinal);
        Assert.DoesNotContain("action=\"/hosts/web1/forget\"", (await admin.GetPageAsync("/hosts/web1")).Html, StringComparison.Ordinal);
        using var forgot = await admin.PostFormAsync("/hosts/web1?confirm=forget", "/hosts/web1/forget");
        Assert.Equal("/hosts/web1?done=forgotten", forgot.Headers.Location?.OriginalString);
        var (status, html) = await admin.GetPageAsync("/hosts/web1?done=forgotten");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("Forgotten, with its history.", html, StringComparison.Ordinal);
        using var api = new HttpRequestMessage(HttpMethod.Get, "/api/v1/hosts/web1") { Headers = { Authorization = new("Bearer", AdminToken) } };
        using var gone = await server.Client.SendAsync(api, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task PageActionsWithoutTheAntiforgeryTokenFromAnotherSiteOrWithoutTheAdminTokenChangeNothing()
    {
        await using var server = await StartWithTokensAsync();
        await server.BeatAsync("""{"host": "web1"}""");
        using var admin = await PageSession.LogInAsync(server, AdminToken);
        using var anonymous = new PageSession(server);
        var form = new Dictionary<string, string> { ["for"] = "30d" };

        using var bare = await admin.PostFormAsync("/hosts/web1", "/hosts/web1/maintenance", form, withAntiforgery: false);
        using var crossSite = await admin.PostFormAsync("/hosts/web1", "/hosts/web1/maintenance", form, change: r => r.Headers.Add("Sec-Fetch-Site", "cross-site"));
        using var otherOrigin = await admin.PostFormAsync("/hosts/web1", "/hosts/web1/forget", change: r => r.Headers.Add("Origin", "http://evil.example"));
        using var noToken = await anonymous.PostFormAsync("/login", "/hosts/web1/forget");

        Assert.Equal(HttpStatusCode.Forbidden, bare.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, crossSite.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, otherOrigin.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
        await AssertUnchangedAsync(server);
    }

    [Fact]
    public async Task WithoutAnAdminTokenThisMachineGetsTheFormsAndStillNeedsTheirAntiforgeryToken()
    {
        await using var server = await InProcessServer.StartAsync();
        await server.BeatAsync("""{"host": "web1"}""");
        using var local = new PageSession(server);

        Assert.Contains("id=\"start-maintenance\"", (await local.GetPageAsync("/hosts/web1")).Html, StringComparison.Ordinal);
        using var bare = await local.PostFormAsync("/hosts/web1", "/hosts/web1/forget", withAntiforgery: false);
        Assert.Equal(HttpStatusCode.BadRequest, bare.StatusCode);
        await AssertUnchangedAsync(server);

        using var done = await local.PostFormAsync("/hosts/web1", "/hosts/web1/maintenance", new() { ["for"] = "10m" });
        Assert.Equal(HttpStatusCode.Redirect, done.StatusCode);
        Assert.NotEqual(JsonValueKind.Null, (await HostAsync(server)).GetProperty("maintenanceUntil").ValueKind);
    }

    [Fact]
    public async Task BadFormInputGetsThePageBackWithTheReasonAndChangesNothing()
    {
        await using var server = await InProcessServer.StartAsync();
        await server.BeatAsync("""{"host": "web1"}""");
        using var local = new PageSession(server);

        using var window = await local.PostFormAsync("/hosts/web1", "/hosts/web1/maintenance", new() { ["for"] = "99d" });
        using var interval = await local.PostFormAsync("/hosts/web1", "/hosts/web1/settings", new() { ["interval"] = "soon", ["misses"] = "2" });
        using var cron = await local.PostFormAsync("/hosts/web1", "/hosts/web1/settings", new() { ["schedule"] = "every day" });
        using var test = await local.PostFormAsync("/hosts/web1", "/hosts/web1/test-notification");

        Assert.Equal(HttpStatusCode.BadRequest, window.StatusCode);
        Assert.Contains("from 1s to 30d", await window.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, interval.StatusCode);
        Assert.Contains("&#x27;interval&#x27; is a number of seconds", await interval.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, cron.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, test.StatusCode);
        Assert.Contains("No notifier is configured", await test.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        await AssertUnchangedAsync(server);
        Assert.Equal("default", (await HostAsync(server)).GetProperty("liveness").GetProperty("missesSource").GetString());
    }

    private static Task<InProcessServer> StartWithTokensAsync(Func<ServerOptions, ServerOptions>? more = null) =>
        InProcessServer.StartAsync(o => (more ?? (x => x))(o with { Security = o.Security with { ReadToken = ReadToken, AdminToken = AdminToken } }));

    /// <summary>Posts the page's form and follows its redirect back to the page, which says what was done.</summary>
    private static async Task ActAsync(PageSession session, string action, Dictionary<string, string>? fields, string done, string confirmation)
    {
        using var response = await session.PostFormAsync("/hosts/web1", action, fields);
        Assert.Equal((action, HttpStatusCode.Redirect), (action, response.StatusCode));
        Assert.Equal($"/hosts/web1?done={done}", response.Headers.Location?.OriginalString);
        var (status, html) = await session.GetPageAsync(response.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains($"<p class=\"flash\" role=\"status\">{confirmation}", html, StringComparison.Ordinal);
    }

    /// <summary>The host through the API, with the admin token (which any server without tokens ignores).</summary>
    private static async Task<JsonElement> HostAsync(InProcessServer server)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/hosts/web1");
        request.Headers.Authorization = new("Bearer", AdminToken);
        using var response = await server.Client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.Clone();
    }

    private static async Task AssertUnchangedAsync(InProcessServer server)
    {
        var host = await HostAsync(server);
        Assert.Equal("up", host.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, host.GetProperty("maintenanceUntil").ValueKind);
        Assert.Equal("default", host.GetProperty("liveness").GetProperty("intervalSource").GetString());
    }
}
