using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Heartbeat.Server.Security;
using Heartbeat.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Heartbeat.Server.Tests;

/// <summary>
/// The README's table of who can do what, row by row, against the real server. A remote client is simulated on
/// loopback with --trust-proxy: the server takes its address from X-Forwarded-For.
/// </summary>
public sealed class AccessTests
{
    private const string Remote = "203.0.113.7";
    private const string ReadToken = "reader-token";
    private const string AdminToken = "admin-token";
    private const string BeatToken = "beat-token";

    /// <summary>The README table's columns: which tokens the server was started with.</summary>
    public enum TokensSet
    {
        None,
        Read,
        Admin,
        ReadAndAdmin,
        Beat,
    }

    /// <summary>Every change there is, and what it answers once allowed (a test notification without notifiers: 409).</summary>
    private static readonly (HttpMethod Method, string Path, string? Body, HttpStatusCode Done)[] Changes =
    [
        (HttpMethod.Post, "/api/v1/hosts/web1/maintenance?for=30d", null, HttpStatusCode.OK),
        (HttpMethod.Delete, "/api/v1/hosts/web1/maintenance", null, HttpStatusCode.OK),
        (HttpMethod.Patch, "/api/v1/hosts/web1", """{"interval": 120}""", HttpStatusCode.OK),
        (HttpMethod.Put, "/api/v1/hosts/expected-db", """{"interval": 60}""", HttpStatusCode.Created),
        (HttpMethod.Post, "/api/v1/notifiers/test", null, HttpStatusCode.Conflict),
        (HttpMethod.Delete, "/api/v1/hosts/web1", null, HttpStatusCode.NoContent),
    ];

    private static readonly string[] Reads =
        ["/", "/hosts/web1", "/api/v1/hosts", "/api/v1/hosts/web1", "/api/v1/hosts/web1/history", "/api/v1/notifiers", "/metrics", "/api/v1/events", "/badge/web1.svg", "/badge/web1.json"];

    [Theory]
    [InlineData(TokensSet.None)]
    [InlineData(TokensSet.Read)]
    [InlineData(TokensSet.Admin)]
    [InlineData(TokensSet.ReadAndAdmin)]
    [InlineData(TokensSet.Beat)]
    public async Task BeatsAreOpenToAnyoneUntilABeatTokenIsSet(TokensSet tokens)
    {
        await using var server = await StartAsync(tokens);
        var open = tokens != TokensSet.Beat;
        var anonymous = open ? HttpStatusCode.OK : HttpStatusCode.Unauthorized;

        Assert.Equal(anonymous, await StatusAsync(server, Remote, HttpMethod.Post, "/", body: """{"host": "web1"}"""));
        Assert.Equal(anonymous, await StatusAsync(server, Remote, HttpMethod.Get, "/ping/cron"));
        Assert.Equal(anonymous, await StatusAsync(server, Remote, HttpMethod.Put, "/v1/agent/check/pass/consul-check"));
        Assert.Equal(anonymous, await StatusAsync(server, Remote, HttpMethod.Get, "/api/push/kuma"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(server, Remote, HttpMethod.Post, "/", BeatToken, """{"host": "web2"}"""));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(server, Remote, HttpMethod.Get, $"/ping/cron2?token={BeatToken}"));
    }

    [Theory]
    [InlineData(TokensSet.None)]
    [InlineData(TokensSet.Admin)]
    [InlineData(TokensSet.Beat)]
    public async Task WithoutAReadTokenAnyoneReadsThePageTheApiTheEventsAndMetrics(TokensSet tokens)
    {
        await using var server = await StartAsync(tokens);
        await server.BeatAsync($$"""{"host": "web1", "token": "{{BeatToken}}"}""");

        foreach (var path in Reads)
        {
            Assert.Equal((path, HttpStatusCode.OK), (path, await StatusAsync(server, Remote, HttpMethod.Get, path)));
        }
    }

    [Theory]
    [InlineData(TokensSet.Read)]
    [InlineData(TokensSet.ReadAndAdmin)]
    public async Task WithAReadTokenReadingNeedsItOrTheAdminTokenFromAnywhere(TokensSet tokens)
    {
        await using var server = await StartAsync(tokens);
        await server.BeatAsync("""{"host": "web1"}""");

        foreach (var path in Reads)
        {
            Assert.Equal((path, HttpStatusCode.Unauthorized), (path, await StatusAsync(server, Remote, HttpMethod.Get, path)));
            Assert.Equal((path, HttpStatusCode.Unauthorized), (path, await StatusAsync(server, from: null, HttpMethod.Get, path)));
            Assert.Equal((path, HttpStatusCode.Forbidden), (path, await StatusAsync(server, Remote, HttpMethod.Get, path, "not-a-token")));
            Assert.Equal((path, HttpStatusCode.OK), (path, await StatusAsync(server, Remote, HttpMethod.Get, path, ReadToken)));
            if (tokens == TokensSet.ReadAndAdmin)
            {
                Assert.Equal((path, HttpStatusCode.OK), (path, await StatusAsync(server, Remote, HttpMethod.Get, path, AdminToken)));
            }
        }
    }

    [Theory]
    [InlineData(TokensSet.None)]
    [InlineData(TokensSet.Read)]
    [InlineData(TokensSet.Beat)]
    public async Task WithoutAnAdminTokenChangesAreAllowedFromThisMachineOnlyAndNoTokenMakesOneFromElsewhere(TokensSet tokens)
    {
        await using var server = await StartAsync(tokens);
        await server.BeatAsync($$"""{"host": "web1", "token": "{{BeatToken}}"}""");

        foreach (var (method, path, body, _) in Changes)
        {
            Assert.Equal((path, HttpStatusCode.Forbidden), (path, await StatusAsync(server, Remote, method, path, body: body)));
            Assert.Equal((path, HttpStatusCode.Forbidden), (path, await StatusAsync(server, Remote, method, path, ReadToken, body)));
            Assert.Equal((path, HttpStatusCode.Forbidden), (path, await StatusAsync(server, Remote, method, path, BeatToken, body)));
        }

        Assert.Equal("up", await StateOfAsync(server, "web1")); // neither forgotten nor silenced
        Assert.Null(await StateOfAsync(server, "expected-db"));
        using (var refused = await SendAsync(server, Remote, HttpMethod.Delete, "/api/v1/hosts/web1"))
        {
            var body = await refused.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            Assert.Contains("--admin-token", body, StringComparison.Ordinal);
        }

        foreach (var (method, path, body, done) in Changes)
        {
            Assert.Equal((path, done), (path, await StatusAsync(server, from: null, method, path, body: body)));
        }
    }

    [Theory]
    [InlineData(TokensSet.Admin)]
    [InlineData(TokensSet.ReadAndAdmin)]
    public async Task WithAnAdminTokenChangesNeedItFromAnywhereThisMachineIncluded(TokensSet tokens)
    {
        await using var server = await StartAsync(tokens);
        await server.BeatAsync("""{"host": "web1"}""");

        foreach (var (method, path, body, _) in Changes)
        {
            Assert.Equal((path, HttpStatusCode.Unauthorized), (path, await StatusAsync(server, Remote, method, path, body: body)));
            Assert.Equal((path, HttpStatusCode.Unauthorized), (path, await StatusAsync(server, from: null, method, path, body: body)));
            Assert.Equal((path, HttpStatusCode.Forbidden), (path, await StatusAsync(server, Remote, method, path, ReadToken, body)));
            Assert.Equal((path, HttpStatusCode.Forbidden), (path, await StatusAsync(server, Remote, method, path, $"{AdminToken}x", body)));
        }

        Assert.Equal("up", await StateOfAsync(server, "web1"));
        Assert.Null(await StateOfAsync(server, "expected-db"));
        foreach (var (method, path, body, done) in Changes)
        {
            Assert.Equal((path, done), (path, await StatusAsync(server, Remote, method, path, AdminToken, body)));
        }
    }

    [Fact]
    public async Task WithAReadTokenPublicBadgesAndThePublicStatusPageOpenOnlyThemselvesToAnyone()
    {
        await using var server = await InProcessServer.StartAsync(o => o with
        {
            Security = o.Security with { ReadToken = ReadToken, PublicBadges = true, PublicStatus = ["office"], TrustProxy = [IPNetwork.Parse("127.0.0.1/32")] },
        });
        await server.BeatAsync("""{"host": "web1", "group": "office"}""");

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(server, Remote, HttpMethod.Get, "/badge/web1.svg"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(server, Remote, HttpMethod.Get, "/badge/group/office.svg"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(server, Remote, HttpMethod.Get, "/status"));
        foreach (var path in Reads.Where(p => !p.StartsWith("/badge/", StringComparison.Ordinal)))
        {
            Assert.Equal((path, HttpStatusCode.Unauthorized), (path, await StatusAsync(server, Remote, HttpMethod.Get, path)));
        }
    }

    [Theory]
    [InlineData(TokensSet.None)]
    [InlineData(TokensSet.ReadAndAdmin)]
    public async Task HealthTheLoginPageAndThePagesAssetsAreOpenToAnyone(TokensSet tokens)
    {
        await using var server = await StartAsync(tokens);

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(server, Remote, HttpMethod.Get, "/healthz"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(server, Remote, HttpMethod.Get, "/login"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(server, Remote, HttpMethod.Get, "/assets/status.css"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(server, Remote, HttpMethod.Get, "/assets/favicon-down.svg"));
    }

    [Fact]
    public async Task EveryEndpointThatChangesSomethingNeedsTheAdminPolicyUnlessItTakesBeatsOrIsALoginForm()
    {
        await using var server = await InProcessServer.StartAsync();
        var endpoints = server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();

        var unguarded = endpoints
            .Where(e => e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods is not { Count: > 0 } methods
                || methods.Any(m => !HttpMethods.IsGet(m) && !HttpMethods.IsHead(m)))
            .Where(e => e.Metadata.GetMetadata<OpenEndpoint>() is not { ChangesState: true })
            .Where(e => !e.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => a.Policy == Access.Admin))
            .Select(e => e.RoutePattern.RawText)
            .ToList();

        Assert.Equal(["/login", "/logout"], unguarded.Order(StringComparer.Ordinal));
        Assert.Contains(endpoints, e => e.RoutePattern.RawText == "/api/v1/hosts/{id}" && e.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => a.Policy == Access.Admin));
    }

    [Fact]
    public async Task WithoutAnAdminTokenTheStartLineSaysChangesAreAllowedFromThisMachineOnly()
    {
        using var directory = new TempDirectory();
        var log = directory.File("heartbeat.log");
        using (var open = ServerProcess.Start(["0", "--bind", "127.0.0.1", "--log-file", log]))
        {
            await open.WaitForStartAsync(log);
            await Eventually.TrueAsync(() => open.StandardOutput.Contains("Listening on", StringComparison.Ordinal), "the start line");
            Assert.Contains("changes (forget, maintenance, notifier tests) allowed from this machine only (no --admin-token)", open.StandardOutput, StringComparison.Ordinal);
        }

        using var guarded = ServerProcess.Start(["0", "--bind", "127.0.0.1", "--log-file", log], new Dictionary<string, string> { ["HEARTBEAT_ADMIN_TOKEN"] = AdminToken });
        await guarded.WaitForStartAsync(log, earlierStarts: 1);
        await Eventually.TrueAsync(() => guarded.StandardOutput.Contains("Listening on", StringComparison.Ordinal), "the start line");
        Assert.Contains("allowed with the admin token", guarded.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain(AdminToken, guarded.StandardOutput, StringComparison.Ordinal);
    }

    private static Task<InProcessServer> StartAsync(TokensSet tokens) => InProcessServer.StartAsync(o => o with
    {
        Security = o.Security with
        {
            ReadToken = tokens is TokensSet.Read or TokensSet.ReadAndAdmin ? ReadToken : null,
            AdminToken = tokens is TokensSet.Admin or TokensSet.ReadAndAdmin ? AdminToken : null,
            Token = tokens == TokensSet.Beat ? BeatToken : null,
            TrustProxy = [IPNetwork.Parse("127.0.0.1/32")],
        },
    });

    /// <summary>A request from <c>from</c>, the client's address as a trusted proxy reports it (null: a client on this machine).</summary>
    private static async Task<HttpResponseMessage> SendAsync(InProcessServer server, string? from, HttpMethod method, string path, string? token = null, string? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : new StringContent(body) };
        if (from is not null)
        {
            request.Headers.Add("X-Forwarded-For", from);
        }

        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        // Headers only: the event stream never ends.
        return await server.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
    }

    /// <summary>The host's state, read with the read token (which any server without one ignores); null once forgotten.</summary>
    private static async Task<string?> StateOfAsync(InProcessServer server, string id)
    {
        using var response = await SendAsync(server, from: null, HttpMethod.Get, $"/api/v1/hosts/{id}", ReadToken);
        return response.StatusCode == HttpStatusCode.OK
            ? JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.GetProperty("state").GetString()
            : null;
    }

    private static async Task<HttpStatusCode> StatusAsync(InProcessServer server, string? from, HttpMethod method, string path, string? token = null, string? body = null)
    {
        using var response = await SendAsync(server, from, method, path, token, body);
        return response.StatusCode;
    }
}
