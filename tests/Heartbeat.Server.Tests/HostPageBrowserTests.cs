using System.Net;
using System.Text.Json;
using Heartbeat.Server.Notify;
using Heartbeat.Server.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Heartbeat.Server.Tests;

/// <summary>The host page in a real headless Chromium (Debian's): an admin clicks every action, and the layout holds on a phone and a wide screen, light and dark.</summary>
public sealed class HostPageBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";
    private const string AdminToken = "admin-token";
    private const string Host = "nightly-backup.storage.example.internal";

    [Fact]
    public async Task AnAdminLogsInAndEveryActionOnTheHostPageTakesEffect()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await InProcessServer.StartAsync(o => o with
        {
            Security = o.Security with { ReadToken = "reader-token", AdminToken = AdminToken },
            Notify = o.Notify with { Webhooks = [WebhookSpec.Parse(receiver.Url.ToString())] },
        });
        await SeedAsync(server);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 900 } });
        var refused = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.Ordinal))
            {
                refused.Add(message.Text);
            }
        };

        await page.GotoAsync($"{server.Client.BaseAddress}hosts/{Host}");
        Assert.Contains("/login?return=", page.Url, StringComparison.Ordinal);
        await page.FillAsync("#token", AdminToken);
        await page.ClickAsync("button[type=submit]");
        Assert.EndsWith($"/hosts/{Host}", page.Url, StringComparison.Ordinal);
        var flash = page.Locator(".flash");

        await page.FillAsync("#start-maintenance input[name=for]", "2h");
        await page.ClickAsync("#start-maintenance button");
        await Assertions.Expect(flash).ToContainTextAsync("Maintenance started");
        await Assertions.Expect(page.Locator(".notes .note-maintenance")).ToContainTextAsync("maintenance until ");
        Assert.NotEqual(JsonValueKind.Null, (await HostAsync(server)).GetProperty("maintenanceUntil").ValueKind);

        await page.ClickAsync("#end-maintenance button");
        await Assertions.Expect(flash).ToHaveTextAsync("Maintenance ended.");
        Assert.Equal(JsonValueKind.Null, (await HostAsync(server)).GetProperty("maintenanceUntil").ValueKind);

        await page.FillAsync("#settings input[name=interval]", "5m");
        await page.FillAsync("#settings input[name=misses]", "3");
        await page.ClickAsync("#settings button");
        await Assertions.Expect(flash).ToHaveTextAsync("Settings saved.");
        await Assertions.Expect(page.Locator("dd[data-setting=interval]")).ToHaveTextAsync("5m (configured)");
        await Assertions.Expect(page.Locator("dd[data-setting=misses]")).ToHaveTextAsync("3 (configured)");
        Assert.Equal(300, (await HostAsync(server)).GetProperty("liveness").GetProperty("intervalSeconds").GetDouble());

        await page.ClickAsync("#test-notification button");
        await Assertions.Expect(flash).ToContainTextAsync("A test notification is on its way");
        await receiver.WaitForAsync(_ => true, "the test notification");

        await page.ClickAsync("#forget-start");
        await Assertions.Expect(page.Locator("#forget")).ToContainTextAsync($"Forget {Host} and its history?");
        await page.ClickAsync("#forget button");
        await Assertions.Expect(flash).ToContainTextAsync("Forgotten, with its history.");
        using (var gone = await GetHostAsync(server))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        Assert.Empty(refused);
    }

    [Theory]
    [InlineData(400, ColorScheme.Light)]
    [InlineData(400, ColorScheme.Dark)]
    [InlineData(1400, ColorScheme.Light)]
    [InlineData(1400, ColorScheme.Dark)]
    public async Task TheHostPageFitsItsWidthWithoutSidewaysScrollInLightAndDark(int width, ColorScheme scheme)
    {
        await using var server = await InProcessServer.StartAsync();
        await SeedAsync(server);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = width, Height = 900 }, ColorScheme = scheme });

        await page.GotoAsync($"{server.Client.BaseAddress}hosts/{Host}");
        await Assertions.Expect(page.Locator("h1.host-id")).ToHaveTextAsync(Host);
        await Assertions.Expect(page.Locator("#start-maintenance")).ToBeVisibleAsync(); // this machine, no admin token: the forms show

        var (scrollWidth, innerWidth) = (await page.EvaluateAsync<int>("() => document.scrollingElement.scrollWidth"), await page.EvaluateAsync<int>("() => window.innerWidth"));
        Assert.True(scrollWidth <= innerWidth, $"The page is {scrollWidth} px wide in a {innerWidth} px window: it scrolls sideways.");
        var dark = await page.EvaluateAsync<bool>("() => getComputedStyle(document.body).color !== 'rgb(0, 0, 0)'"); // light text on the dark canvas
        Assert.Equal(scheme == ColorScheme.Dark, dark);

        var screenshot = Path.Combine(Screenshots.Folder, $"host-page-{width}-{scheme.ToString().ToLowerInvariant()}.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        TestContext.Current.SendDiagnosticMessage($"Host page screenshot: {screenshot}");
    }

    // A host with some history: an address change, a failure with its reason, a recovery, and a job's output.
    private static async Task SeedAsync(InProcessServer server)
    {
        await server.BeatAsync($$"""{"host": "{{Host}}", "ip": "192.168.1.53", "interval": 60}""");
        await server.BeatAsync($$"""{"host": "{{Host}}", "ip": "192.168.1.54", "interval": 60, "status": "fail", "msg": "rsync exited with code 23: some files could not be transferred"}""");
        using (var log = await server.Client.PostAsync($"/ping/{Host}/log", new StringContent("rsync: [sender] send_files failed to open \"/srv/backup/very/long/path/that/does/not/wrap/nicely/database-dump-2026-12-01.sql.gz\": Permission denied (13)\n"), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, log.StatusCode);
        }

        await server.BeatAsync($$"""{"host": "{{Host}}", "ip": "192.168.1.54", "interval": 60, "msg": "backup done in 14m"}""");
    }

    private static async Task<JsonElement> HostAsync(InProcessServer server)
    {
        using var response = await GetHostAsync(server);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.Clone();
    }

    private static Task<HttpResponseMessage> GetHostAsync(InProcessServer server)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/hosts/{Host}") { Headers = { Authorization = new("Bearer", AdminToken) } };
        return server.Client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    private static Task<IBrowser> LaunchAsync(IPlaywright playwright)
    {
        Assert.True(File.Exists(Chromium), $"The browser tests need Chromium at {Chromium} (apt-get install chromium); ./test.sh installs it.");
        return playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            // No sandbox as root in CI; no background traffic to Google on a machine without internet.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }
}
