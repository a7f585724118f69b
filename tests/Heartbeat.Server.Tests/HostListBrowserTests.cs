using System.Text.RegularExpressions;
using Heartbeat.Server.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Heartbeat.Server.Tests;

/// <summary>The host list in a real headless Chromium (Debian's), on a phone and a desktop, light and dark.</summary>
public sealed class HostListBrowserTests
{
    private const string ChromiumPath = "/usr/bin/chromium";
    private const string LongName = "nightly-backup.eu-west-1.storage.example.org";

    // Every violation of the page's Content-Security-Policy, as the browser reports it.
    private const string RecordViolations =
        "window.violations = []; document.addEventListener('securitypolicyviolation', e => window.violations.push(e.violatedDirective + ' ' + e.blockedURI));";

    [Fact]
    public async Task ListNeverScrollsSidewaysWrapsLongNamesAtDotsAndDashesAndFollowsTheColourSchemeAtPhoneAndDesktopWidths()
    {
        await using var server = await InProcessServer.StartAsync(InProcessServer.WithoutRateLimits);
        await server.BeatAsync($$"""{"host": "{{LongName}}", "ip": "192.168.100.200", "group": "backups"}""");
        await server.BeatAsync("""{"host": "db-primary.example.org", "status": "fail", "msg": "replication lag 340 s over the 60 s limit on db-primary"}""");
        await server.BeatAsync("""{"host": "web1", "ip": "192.168.1.53", "maintenance": 1800}""");
        for (var i = 0; i < 5; i++)
        {
            await server.BeatAsync($$"""{"host": "shop-till-{{i}}.branch-{{i}}.example.org", "group": "shop"}""");
        }

        await using var chromium = await BrowserAsync();
        foreach (var (width, scheme) in new[] { (400, ColorScheme.Light), (400, ColorScheme.Dark), (1400, ColorScheme.Light), (1400, ColorScheme.Dark) })
        {
            await using var context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions
            {
                ViewportSize = new ViewportSize { Width = width, Height = 900 },
                ColorScheme = scheme,
            });
            var page = await context.NewPageAsync();
            await page.AddInitScriptAsync(RecordViolations);
            await page.GotoAsync(server.Client.BaseAddress!.ToString());
            await Assertions.Expect(page.Locator("#live")).ToHaveTextAsync("live");
            var where = $"{width} px, {scheme}";

            Assert.True(
                await page.EvaluateAsync<bool>("() => document.scrollingElement.scrollWidth <= window.innerWidth"),
                $"{where}: the page scrolls sideways, past its edge: " + string.Join("; ", await page.EvaluateAsync<string[]>(
                    "() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 0.5 && ![...e.children].some(c => c.getBoundingClientRect().right > innerWidth + 0.5)).map(e => e.tagName + '.' + e.className + ' ' + (e.textContent || '').slice(0, 40))")));

            // No piece between two break opportunities is split across lines: names wrap at '.', '-' and '_' only.
            var link = page.Locator($"tr[data-host='{LongName}'] td.host a");
            var linesPerPiece = await link.EvaluateAsync<int[]>("""
                a => [...a.childNodes].filter(n => n.nodeType === Node.TEXT_NODE).map(n => {
                  const range = document.createRange(); range.selectNodeContents(n);
                  return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size; })
                """);
            Assert.All(linesPerPiece, lines => Assert.Equal(1, lines));
            if (width == 400)
            {
                var lines = await link.EvaluateAsync<int>("a => new Set([...a.getClientRects()].map(r => Math.round(r.top))).size");
                Assert.True(lines > 1, $"{where}: the long name should wrap on a phone, not stretch the page");
            }

            // Nothing of a row is cut off: every cell lies within the viewport.
            var overflowing = await page.EvaluateAsync<string[]>(
                "() => [...document.querySelectorAll('#hosts td')].filter(td => td.getBoundingClientRect().right > window.innerWidth + 0.5).map(td => td.textContent)");
            Assert.Empty(overflowing);

            var background = await page.EvaluateAsync<string>("() => getComputedStyle(document.body).backgroundColor");
            Assert.Equal(scheme == ColorScheme.Dark ? "rgb(13, 17, 23)" : "rgba(0, 0, 0, 0)", background);
            await Assertions.Expect(page.Locator("tr[data-host='db-primary.example.org'] .reason")).ToHaveTextAsync("replication lag 340 s over the 60 s limit on db-primary");
            Assert.Empty(await page.EvaluateAsync<string[]>("() => window.violations"));

            await ScreenshotAsync(page, $"host-list-{width}-{scheme.ToString().ToLowerInvariant()}.png");
        }
    }

    [Fact]
    public async Task HostNameLinksToTheHostsPageAndTheFiltersNarrowTheListLive()
    {
        await using var server = await InProcessServer.StartAsync();
        await server.BeatAsync("""{"host": "office:printer", "group": "office"}""");
        await server.BeatAsync("""{"host": "lab-1", "group": "lab", "status": "fail"}""");
        await using var chromium = await BrowserAsync();
        var page = await chromium.Browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 700 } });
        await page.GotoAsync(server.Client.BaseAddress!.ToString());
        await Assertions.Expect(page.Locator("#live")).ToHaveTextAsync("live");

        await page.Locator("select[name=state]").SelectOptionAsync("failing");
        await Assertions.Expect(page.Locator("#hosts tbody tr")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#hosts tbody tr").First).ToHaveAttributeAsync("data-host", "lab-1");
        await page.Locator("select[name=state]").SelectOptionAsync(string.Empty);
        await page.Locator("input[name=group]").FillAsync("office");
        await Assertions.Expect(page.Locator("#hosts tbody tr")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#hosts tbody tr").First).ToHaveAttributeAsync("data-host", "office:printer");
        Assert.EndsWith("/?group=office", page.Url, StringComparison.Ordinal); // a reload or a shared link keeps the filter

        await page.Locator("tr[data-host='office:printer'] td.host a").ClickAsync();
        await page.WaitForURLAsync(new Regex("/hosts/office%3Aprinter$"));
    }

    [Fact]
    public async Task FaviconAndTitleTurnRedWhileAHostIsDownAndBackWhenItRecovers()
    {
        await using var server = await InProcessServer.StartAsync();
        await server.BeatAsync("""{"host": "web1"}""");
        await using var chromium = await BrowserAsync();
        var page = await chromium.Browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 400, Height = 700 } });
        await page.AddInitScriptAsync(RecordViolations);
        await page.GotoAsync(server.Client.BaseAddress!.ToString());
        await Assertions.Expect(page.Locator("#live")).ToHaveTextAsync("live");
        var favicon = page.Locator("link#favicon");
        await Assertions.Expect(favicon).ToHaveAttributeAsync("href", "/assets/favicon.svg");

        await server.BeatAsync("""{"host": "cron", "interval": 1}""");
        await Assertions.Expect(favicon).ToHaveAttributeAsync("href", "/assets/favicon-down.svg", new() { Timeout = 10_000 });
        await Assertions.Expect(page).ToHaveTitleAsync("(1 down) Heartbeat");
        var icon = await page.EvaluateAsync<string>(
            "async () => { const r = await fetch(document.getElementById('favicon').href); return r.status + ' ' + r.headers.get('content-type') + ' ' + (await r.text()).includes('#cf222e'); }");
        Assert.Equal("200 image/svg+xml true", icon);
        await ScreenshotAsync(page, "host-list-400-down.png");

        await server.BeatAsync("""{"host": "cron", "interval": 3600}""");
        await Assertions.Expect(favicon).ToHaveAttributeAsync("href", "/assets/favicon.svg", new() { Timeout = 10_000 });
        await Assertions.Expect(page).ToHaveTitleAsync("Heartbeat");
        Assert.Empty(await page.EvaluateAsync<string[]>("() => window.violations"));
    }

    [Fact]
    public async Task PublicStatusPageFitsAPhoneInTheDarkAndShowsOnlyItsGroups()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { Security = o.Security with { ReadToken = "reader-token", PublicStatus = ["office"] } });
        await server.BeatAsync($$"""{"host": "{{LongName}}", "group": "office"}""");
        await server.BeatAsync("""{"host": "office-printer", "group": "office", "status": "fail"}""");
        await server.BeatAsync("""{"host": "lab-1", "group": "lab"}""");
        await using var chromium = await BrowserAsync();
        await using var context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 400, Height = 700 },
            ColorScheme = ColorScheme.Dark,
        });
        var page = await context.NewPageAsync();
        await page.AddInitScriptAsync(RecordViolations);
        await page.GotoAsync(new Uri(server.Client.BaseAddress!, "/status").ToString());

        await Assertions.Expect(page.Locator("#hosts tbody tr")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("#hosts tbody tr").First).ToHaveAttributeAsync("data-host", "office-printer");
        Assert.True(await page.EvaluateAsync<bool>("() => document.scrollingElement.scrollWidth <= window.innerWidth"), "the public page scrolls sideways");
        Assert.Empty(await page.EvaluateAsync<string[]>("() => window.violations"));
        await ScreenshotAsync(page, "public-status-400-dark.png");
    }

    private static async Task<Chromium> BrowserAsync()
    {
        Assert.True(File.Exists(ChromiumPath), $"The browser tests need Chromium at {ChromiumPath} (apt-get install chromium); ./test.sh installs it.");
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            // No sandbox as root in CI; no background traffic to Google on a machine without internet.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        return new Chromium(playwright, browser);
    }

    private static async Task ScreenshotAsync(IPage page, string name)
    {
        var path = Path.Combine(Screenshots.Folder, name);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        TestContext.Current.SendDiagnosticMessage($"Screenshot: {path}");
    }

    private sealed class Chromium(IPlaywright playwright, IBrowser browser) : IAsyncDisposable
    {
        public IBrowser Browser => browser;

        public async ValueTask DisposeAsync()
        {
            await browser.DisposeAsync();
            playwright.Dispose();
        }
    }
}
