using System.Net;
using System.Text.RegularExpressions;
using Heartbeat.Server.Tests.Infrastructure;

namespace Heartbeat.Server.Tests;

/// <summary>A person logs in once with a token and a session cookie does the rest: no token in any address.</summary>
public sealed partial class LoginTests
{
    private const string ReadToken = "reader-token";
    private const string AdminToken = "admin-token";

    [Fact]
    public async Task APersonSentToTheLoginPageLogsInWithTheReadTokenAndReadsThePageWithTheSessionCookie()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { Security = o.Security with { ReadToken = ReadToken } });
        using var browser = Browser(server);

        using var page = await GetAsync(browser, "/?q=web");
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.Equal("/login?return=%2F%3Fq%3Dweb", page.Headers.Location?.OriginalString);

        using var loggedIn = await LogInAsync(browser, ReadToken, "/?q=web");
        Assert.Equal(HttpStatusCode.Redirect, loggedIn.StatusCode);
        Assert.Equal("/?q=web", loggedIn.Headers.Location?.OriginalString);
        var cookie = Assert.Single(loggedIn.Headers.GetValues("Set-Cookie"), c => c.StartsWith("heartbeat_session=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", cookie, StringComparison.OrdinalIgnoreCase); // plain HTTP: a Secure cookie would never come back
        Assert.DoesNotContain(ReadToken, cookie, StringComparison.Ordinal);

        using var again = await GetAsync(browser, "/");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Contains("Log out", await again.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        using var api = await GetAsync(browser, "/api/v1/hosts");
        Assert.Equal(HttpStatusCode.OK, api.StatusCode);
    }

    [Fact]
    public async Task ALoginWithAWrongTokenOrWithoutTheFormsAntiforgeryTokenGetsNoSession()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { Security = o.Security with { ReadToken = ReadToken } });
        using var browser = Browser(server);

        using var wrong = await LogInAsync(browser, "guess", "/");
        using var forged = await browser.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = ReadToken }), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Contains("not valid", await wrong.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.False(wrong.Headers.TryGetValues("Set-Cookie", out var a) && a.Any(c => c.StartsWith("heartbeat_session=", StringComparison.Ordinal)));
        Assert.False(forged.Headers.TryGetValues("Set-Cookie", out var b) && b.Any(c => c.StartsWith("heartbeat_session=", StringComparison.Ordinal)));
        using var api = await browser.GetAsync("/api/v1/hosts", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
    }

    [Fact]
    public async Task LoggingOutWithThePagesFormEndsTheSession()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { Security = o.Security with { ReadToken = ReadToken } });
        using var browser = Browser(server);
        (await LogInAsync(browser, ReadToken, "/")).Dispose();

        using var withoutToken = await browser.PostAsync("/logout", new FormUrlEncodedContent([]), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, withoutToken.StatusCode);
        using var logout = await browser.PostAsync("/logout", await FormOfAsync(browser, "/"), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        Assert.Equal("/login", logout.Headers.Location?.OriginalString);

        using var api = await browser.GetAsync("/api/v1/hosts", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
        using var page = await GetAsync(browser, "/");
        Assert.Equal("/login?return=%2F", page.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task AnAdminSessionMakesChangesOnlyWithThePagesAntiforgeryTokenAndAReadSessionNever()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { Security = o.Security with { ReadToken = ReadToken, AdminToken = AdminToken } });
        await server.BeatAsync("""{"host": "web1"}""");
        using var reader = Browser(server);
        using var admin = Browser(server);
        (await LogInAsync(reader, ReadToken, "/")).Dispose();
        (await LogInAsync(admin, AdminToken, "/")).Dispose();

        using var readSession = await DeleteAsync(reader, await AntiforgeryTokenAsync(reader));
        using var bareSession = await DeleteAsync(admin, antiforgery: null);
        Assert.Equal(HttpStatusCode.Forbidden, readSession.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, bareSession.StatusCode);
        Assert.Contains("antiforgery", await bareSession.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);

        using var fromThePage = await DeleteAsync(admin, await AntiforgeryTokenAsync(admin));
        Assert.Equal(HttpStatusCode.NoContent, fromThePage.StatusCode);
    }

    [Fact]
    public async Task OverTlsTheSessionCookieIsSecure()
    {
        using var directory = new TempDirectory();
        var (cert, key, thumbprint) = TestCertificate.Write(directory);
        await using var server = await InProcessServer.StartAsync(o => o with { Security = o.Security with { ReadToken = ReadToken, TlsCertificate = cert, TlsKey = key } });
        using var browser = Browser(server, new Uri($"https://127.0.0.1:{server.Port}"), thumbprint);

        using var loggedIn = await LogInAsync(browser, ReadToken, "/");

        Assert.Equal(HttpStatusCode.Redirect, loggedIn.StatusCode);
        Assert.Contains(loggedIn.Headers.GetValues("Set-Cookie"), c => c.StartsWith("heartbeat_session=", StringComparison.Ordinal) && c.Contains("; secure", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task WithoutTokensTheLoginPageSaysThereIsNothingToLogInTo()
    {
        await using var server = await InProcessServer.StartAsync();

        var page = await server.Client.GetStringAsync("/login", TestContext.Current.CancellationToken);

        Assert.Contains("nothing to log in to", page, StringComparison.Ordinal);
        Assert.DoesNotContain("<form", page, StringComparison.Ordinal);
    }

    /// <summary>A client that keeps cookies and does not follow redirects, as a test of a browser's side of the exchange.</summary>
    private static HttpClient Browser(InProcessServer server, Uri? address = null, string? thumbprint = null) =>
        new(new SocketsHttpHandler
        {
            UseCookies = true,
            CookieContainer = new CookieContainer(),
            AllowAutoRedirect = false,
            SslOptions = { RemoteCertificateValidationCallback = (_, presented, _, _) => presented?.GetCertHashString() == thumbprint },
        })
        { BaseAddress = address ?? server.Client.BaseAddress };

    private static Task<HttpResponseMessage> GetAsync(HttpClient browser, string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("text/html");
        return browser.SendAsync(request, TestContext.Current.CancellationToken);
    }

    private static async Task<HttpResponseMessage> LogInAsync(HttpClient browser, string token, string returnTo)
    {
        var form = new Dictionary<string, string> { ["token"] = token, ["return"] = returnTo, ["__RequestVerificationToken"] = await AntiforgeryTokenAsync(browser, "/login") };
        return await browser.PostAsync("/login", new FormUrlEncodedContent(form), TestContext.Current.CancellationToken);
    }

    private static async Task<HttpResponseMessage> DeleteAsync(HttpClient browser, string? antiforgery)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, "/api/v1/hosts/web1");
        if (antiforgery is not null)
        {
            request.Headers.Add("RequestVerificationToken", antiforgery);
        }

        return await browser.SendAsync(request, TestContext.Current.CancellationToken);
    }

    private static async Task<FormUrlEncodedContent> FormOfAsync(HttpClient browser, string page) =>
        new(new Dictionary<string, string> { ["__RequestVerificationToken"] = await AntiforgeryTokenAsync(browser, page) });

    /// <summary>The antiforgery token of the page's form, as the browser would send it back.</summary>
    private static async Task<string> AntiforgeryTokenAsync(HttpClient browser, string page = "/")
    {
        using var response = await GetAsync(browser, page);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var match = AntiforgeryField().Match(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        Assert.True(match.Success, $"No antiforgery field on {page}.");
        return match.Groups["token"].Value;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"(?<token>[^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
