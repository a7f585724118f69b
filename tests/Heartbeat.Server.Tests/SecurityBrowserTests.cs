using System.Text;
using System.Text.Json;
using Heartbeat.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Playwright;

namespace Heartbeat.Server.Tests;

/// <summary>Logging in, and an attack from another site, in a real headless Chromium (Debian's).</summary>
public sealed class SecurityBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task APersonLogsInAtTheLoginPageSeesTheHostsAndLogsOut()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { Security = o.Security with { ReadToken = "reader-token" } });
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        var refused = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.Ordinal))
            {
                refused.Add(message.Text);
            }
        };

        await page.GotoAsync(server.Client.BaseAddress!.ToString());
        Assert.EndsWith("/login?return=%2F", page.Url, StringComparison.Ordinal);
        await page.FillAsync("#token", "wrong");
        await page.ClickAsync("button[type=submit]");
        await Assertions.Expect(page.Locator(".error")).ToHaveTextAsync("That token is not valid here.");
        await page.FillAsync("#token", "reader-token");
        await page.ClickAsync("button[type=submit]");

        await Assertions.Expect(page.Locator("#live")).ToHaveTextAsync("live"); // the event stream, on the session cookie
        Assert.DoesNotContain("token", page.Url, StringComparison.Ordinal);
        await server.BeatAsync("""{"host": "web1"}""");
        await Assertions.Expect(page.Locator("tr[data-host='web1']")).ToBeVisibleAsync(new() { Timeout = 5_000 });

        await page.ClickAsync("form.session button");
        Assert.EndsWith("/login", page.Url, StringComparison.Ordinal);
        await page.GotoAsync(server.Client.BaseAddress!.ToString());
        Assert.Contains("/login", page.Url, StringComparison.Ordinal);
        Assert.Empty(refused); // the login page and its forms live within the page's CSP
    }

    [Fact]
    public async Task ASiteTheUserVisitsCannotSilenceAHostWithAFormOrATextPlainBeat()
    {
        await using var server = await InProcessServer.StartAsync();
        await server.BeatAsync("""{"host": "web1"}""");
        var target = $"http://127.0.0.1:{server.Port}";
        var attack = $$"""
            <!doctype html>
            <form method="post" action="{{target}}/api/v1/hosts/web1/maintenance?for=30d" target="sink"><input name="x" value="y"></form>
            <iframe name="sink"></iframe>
            <script>
            fetch("{{target}}/", { method: "POST", mode: "no-cors", headers: { "Content-Type": "text/plain" }, body: '{"host":"web1","maintenance":2592000,"x":"="}' });
            document.forms[0].submit();
            </script>
            """;
        await using var evil = await LoopbackHttpServer.StartAsync(context =>
        {
            context.Response.ContentType = "text/html; charset=utf-8";
            return context.Response.WriteAsync(attack, Encoding.UTF8);
        });
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
        var page = await browser.NewPageAsync();

        // localhost and 127.0.0.1 are different sites to a browser.
        await page.GotoAsync($"http://localhost:{evil.Url.Port}/");

        await Eventually.TrueAsync(() => server.Metrics.HeartbeatsRejected.WithLabels("cross_origin").Value >= 2, "both requests to reach the server and be refused");
        var host = await server.GetHostAsync("web1");
        Assert.Equal(JsonValueKind.Null, host.GetProperty("maintenanceUntil").ValueKind);
        Assert.Single(server.HeartbeatMessages());
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
