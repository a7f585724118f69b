using System.Net;
using System.Text.RegularExpressions;

namespace Heartbeat.Server.Tests.Infrastructure;

/// <summary>A browser's side of the server's pages over plain HTTP: keeps cookies, follows no redirects, sends forms back with their antiforgery token.</summary>
internal sealed partial class PageSession(InProcessServer server) : IDisposable
{
    public HttpClient Client { get; } = new(new SocketsHttpHandler { UseCookies = true, CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
    {
        BaseAddress = server.Client.BaseAddress,
    };

    public static async Task<PageSession> LogInAsync(InProcessServer server, string token)
    {
        var session = new PageSession(server);
        using var response = await session.PostFormAsync("/login", "/login", new() { ["token"] = token, ["return"] = "/" });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return session;
    }

    public async Task<(HttpStatusCode Status, string Html)> GetPageAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("text/html");
        using var response = await Client.SendAsync(request, TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    /// <summary>Posts the fields, with the antiforgery token of the form on <paramref name="page"/> unless told not to.</summary>
    public async Task<HttpResponseMessage> PostFormAsync(string page, string action, Dictionary<string, string>? fields = null, bool withAntiforgery = true, Action<HttpRequestMessage>? change = null)
    {
        fields = new Dictionary<string, string>(fields ?? []);
        if (withAntiforgery)
        {
            var (status, html) = await GetPageAsync(page);
            Assert.Equal(HttpStatusCode.OK, status);
            var match = AntiforgeryField().Match(html);
            Assert.True(match.Success, $"No antiforgery field on {page}.");
            fields["__RequestVerificationToken"] = match.Groups["token"].Value;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, action) { Content = new FormUrlEncodedContent(fields) };
        change?.Invoke(request);
        return await Client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    public void Dispose() => Client.Dispose();

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"(?<token>[^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
