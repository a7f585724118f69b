using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Heartbeat.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Heartbeat.Server.Tests;

/// <summary>/openapi/v1.json: valid by two OpenAPI validators from npm, every route in it, and docs/openapi.json kept equal to it.</summary>
public sealed partial class OpenApiTests
{
    private const string UpdateVariable = "HEARTBEAT_UPDATE_OPENAPI";

    [Fact]
    public async Task TheDocumentIsValidOpenApiToRedoclyAndTheSchemaValidator()
    {
        await using var server = await StartAsync();
        using var directory = new TempDirectory();
        var document = directory.File("openapi.json");
        await File.WriteAllTextAsync(document, await FetchAsync(server), TestContext.Current.CancellationToken);

        var (schemaExit, schemaOutput) = await Tool.RunAsync(NodeTool("validate-api"), document);
        var (lintExit, lintOutput) = await Tool.RunAsync(NodeTool("redocly"), "lint", "--format=summary", document);

        Assert.True(schemaExit == 0, $"validate-api: {schemaOutput}");
        Assert.Contains("\"valid\": true", schemaOutput, StringComparison.Ordinal);
        Assert.True(lintExit == 0, $"redocly lint: {lintOutput}");
        Assert.Contains("Your API description is valid", lintOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryMappedRouteAndMethodIsInTheDocument()
    {
        await using var server = await StartAsync();
        var paths = JsonNode.Parse(await FetchAsync(server))!["paths"]!.AsObject();
        var routes = server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText != "/openapi/{documentName}.json") // the document itself
            .ToList();

        // Only the ping-key form is left out (OpenAPI cannot tell /ping/{key}/{host} from /ping/{host}/{code}).
        var excluded = routes.Where(e => e.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>()?.ExcludeFromDescription == true).ToList();
        Assert.All(excluded, e => Assert.StartsWith("/ping/{key}/{host}", e.RoutePattern.RawText, StringComparison.Ordinal));
        routes = [.. routes.Except(excluded)];

        Assert.True(routes.Count > 25, $"only {routes.Count} routes found");
        var missing = new List<string>();
        foreach (var route in routes)
        {
            var path = Constraint().Replace(route.RoutePattern.RawText!, "}").TrimEnd('/');
            path = path.Length == 0 ? "/" : path;
            var methods = route.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [];
            if (paths[path] is not JsonObject item)
            {
                missing.Add(path);
                continue;
            }

            missing.AddRange(methods.Where(m => item[m.ToLowerInvariant()] is null).Select(m => $"{m} {path}"));
        }

        Assert.Empty(missing);
        Assert.NotNull(paths["/api/push/{token}"]?["get"]); // mapped for any method, so listed by hand
        Assert.NotNull(paths["/metrics"]?["get"]);
        Assert.NotNull(paths["/healthz"]?["get"]);
    }

    [Fact]
    public async Task ItDescribesRequestBodiesResponsesProblemsAndWhoMayCallEach()
    {
        await using var server = await StartAsync();
        var document = JsonNode.Parse(await FetchAsync(server))!;
        var paths = document["paths"]!;

        Assert.Equal("#/components/schemas/HeartbeatPayload", (string?)paths["/"]!["post"]!["requestBody"]!["content"]!["application/json"]!["schema"]!["$ref"]);
        Assert.Equal("#/components/schemas/HeartbeatAck", (string?)paths["/"]!["post"]!["responses"]!["200"]!["content"]!["application/json"]!["schema"]!["$ref"]);
        Assert.NotNull(paths["/"]!["post"]!["responses"]!["413"]!["content"]!["application/problem+json"]);
        Assert.Equal("#/components/schemas/HostPage", (string?)paths["/api/v1/hosts"]!["get"]!["responses"]!["200"]!["content"]!["application/json"]!["schema"]!["$ref"]);
        Assert.NotNull(paths["/api/v1/hosts/{id}"]!["get"]!["responses"]!["404"]);
        Assert.NotNull(paths["/api/v1/hosts/{id}"]!["patch"]!["requestBody"]);
        Assert.NotNull(document["components"]!["schemas"]!["HostView"]!["properties"]!["intervalSeconds"]);

        // Reads name the token and may get 401; changes 403 too; beats and health are open.
        Assert.NotNull(paths["/api/v1/hosts"]!["get"]!["security"]![0]!["token"]);
        Assert.NotNull(paths["/api/v1/hosts"]!["get"]!["responses"]!["401"]);
        Assert.NotNull(paths["/api/v1/hosts"]!["get"]!["responses"]!["429"]);
        Assert.NotNull(paths["/api/v1/hosts/{id}"]!["delete"]!["responses"]!["403"]);
        Assert.Null(paths["/healthz"]!["get"]!["security"]);
        Assert.Null(paths["/api/v1/hosts/{id}"]!["get"]!["responses"]!["403"]);
    }

    [Fact]
    public async Task TheDocumentNeedsReadAccessLikeTheApi()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { Security = o.Security with { ReadToken = "read-secret-123456" } });

        using var anonymous = await server.Client.GetAsync("/openapi/v1.json", TestContext.Current.CancellationToken);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/openapi/v1.json") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "read-secret-123456") } };
        using var reader = await server.Client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, reader.StatusCode);
    }

    [Fact]
    public async Task DocsOpenApiJsonIsTheDocumentTheServerServes()
    {
        await using var server = await StartAsync();
        var served = (await FetchAsync(server)).ReplaceLineEndings("\n").TrimEnd() + "\n";
        var copy = Repository.File("docs", "openapi.json");
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            await File.WriteAllTextAsync(copy, served, TestContext.Current.CancellationToken);
        }

        Assert.True(
            File.Exists(copy) && await File.ReadAllTextAsync(copy, TestContext.Current.CancellationToken) == served,
            $"docs/openapi.json is not the document the server serves; regenerate it with {UpdateVariable}=1 ./test.sh --filter-method \"*DocsOpenApiJson*\" and commit it");
    }

    // With --public-status, so that /status is mapped too: every route there is.
    private static Task<InProcessServer> StartAsync() => InProcessServer.StartAsync(o => o with { Security = o.Security with { PublicStatus = ["office"] } });

    private static async Task<string> FetchAsync(InProcessServer server)
    {
        using var response = await server.Client.GetAsync("/openapi/v1.json", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
    }

    // The validators ./test.sh installs with npm, beside the peer clients (tests/clients).
    private static string NodeTool(string name) =>
        Tool.Require(Repository.File("tests", "clients", "node_modules", ".bin", name), "npm ci --prefix tests/clients");

    [GeneratedRegex(@":[^}]*\}")]
    private static partial Regex Constraint();
}
