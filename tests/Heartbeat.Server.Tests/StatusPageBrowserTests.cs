using Heartbeat.Server.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Heartbeat.Server.Tests;

/// <summary>The status page in a real headless Chromium (Debian's), as a person watching it would see it.</summary>
public sealed class StatusPageBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task PageShowsANewHostLiveThenShowsItDownAndShowsHostileTextAsText()
    {
        Assert.True(File.Exists(Chromium), $"The browser tests need Chromium at {Chromium} (apt-get install chromium); ./test.sh installs it.");
        await using var server = await InProcessServer.StartAsync();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            // No sandbox as root in CI; no background traffic to Google on a machine without internet.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1100, Height = 700 } });
        await page.GotoAsync(server.Client.BaseAddress!.ToString());
        await Assertions.Expect(page.Locator("#live")).ToHaveTextAsync("live");

        await server.BeatAsync("""{"host": "web1", "ip": "192.168.1.53", "interval": 2}""");
        var row = page.Locator("tr[data-host='web1']");
        await Assertions.Expect(row).ToBeVisibleAsync(new() { Timeout = 5_000 });
        await Assertions.Expect(row.Locator("td.state")).ToHaveTextAsync("up");
        await Assertions.Expect(row.Locator("td").Nth(2)).ToHaveTextAsync("192.168.1.53");

        await server.BeatAsync("""{"host": "nas", "status": "fail", "msg": "<img src=x onerror=\"window.owned = true\">"}""");
        await Assertions.Expect(row.Locator("td.state")).ToHaveTextAsync("down", new() { Timeout = 10_000 });
        await Assertions.Expect(page.Locator("#events")).ToContainTextAsync("Host down - web1");
        await Assertions.Expect(page.Locator("#events")).ToContainTextAsync("Host failing - nas (<img src=x onerror=\"window.owned = true\">)");
        Assert.Equal(0, await page.Locator("#events img").CountAsync());
        Assert.False(await page.EvaluateAsync<bool>("() => window.owned === true"));

        // Down first: the table is sorted by trouble.
        await Assertions.Expect(page.Locator("#hosts tbody tr").First).ToHaveAttributeAsync("data-host", "web1");

        // Notes, rendered live by the page's script: a maintenance window, and a clock two minutes slow.
        await server.BeatAsync($$"""{"host": "db", "maintenance": 1800, "ts": {{DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 125}}}""");
        var notes = page.Locator("tr[data-host='db'] td.notes");
        await Assertions.Expect(notes.Locator(".note-maintenance")).ToContainTextAsync("maintenance until ");
        await Assertions.Expect(notes.Locator(".note-warn")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^clock -2m [56]s$"));

        var screenshot = Path.Combine(AppContext.BaseDirectory, "screenshots", "status-page.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        TestContext.Current.SendDiagnosticMessage($"Status page screenshot: {screenshot}");
    }
}
