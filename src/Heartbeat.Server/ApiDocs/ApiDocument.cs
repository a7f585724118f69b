using System.Globalization;
using Heartbeat.Server.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.OpenApi;

namespace Heartbeat.Server.ApiDocs;

// The OpenAPI document of every endpoint at /openapi/v1.json, for whoever may read the API. It is the same on every
// server and at every address (no servers list, no build number), so docs/openapi.json can be kept equal to it.
// What the endpoints' own metadata cannot say is added here: who may call each (from its access policy), 429 where
// a rate limit applies, and the three endpoints that are not route handlers (/metrics, /healthz, Kuma's push URL).
internal static class ApiDocument
{
    public const string Path = "/openapi/{documentName}.json";

    public const string Beats = "Beats";
    public const string Hosts = "Hosts";
    public const string Notifiers = "Notifiers";
    public const string Pages = "Pages";
    public const string Badges = "Badges";
    public const string Session = "Session";
    public const string Operations = "Operations";

    private const string Problem = "application/problem+json";
    private const string TokenScheme = "token";

    public static IServiceCollection AddApiDocument(this IServiceCollection services) => services.AddOpenApi("v1", options =>
    {
        options.AddOperationTransformer(async (operation, context, cancellationToken) =>
        {
            if (context.Description.ActionDescriptor.EndpointMetadata.OfType<DocumentedBody>().LastOrDefault() is { } body)
            {
                var schema = await context.GetOrCreateSchemaAsync(body.Type, null, cancellationToken);
                operation.RequestBody = new OpenApiRequestBody
                {
                    Content = new Dictionary<string, OpenApiMediaType> { [body.ContentType] = new() { Schema = Named(context.Document!, body.Type, schema) } },
                };
            }

            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            if (metadata.OfType<IHttpMethodMetadata>().LastOrDefault()?.HttpMethods is { Count: > 1 } && operation.OperationId is { } name)
            {
                // One endpoint, several methods (GET, POST and HEAD of a ping URL): an operation id each.
                operation.OperationId = name + CultureInfo.InvariantCulture.TextInfo.ToTitleCase(context.Description.HttpMethod!.ToLowerInvariant());
            }

            AddUntypedResponses(operation, metadata);
            var policies = metadata.OfType<IAuthorizeData>().Select(a => a.Policy).ToHashSet(StringComparer.Ordinal);
            if (policies.Contains(Access.Read) || policies.Contains(Access.Admin))
            {
                operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(TokenScheme, context.Document)] = [] }];
                AddProblem(operation, context.Document!, StatusCodes.Status401Unauthorized, "A token is needed (a read or admin token, as this server is set up)");
                if (policies.Contains(Access.Admin))
                {
                    AddProblem(operation, context.Document!, StatusCodes.Status403Forbidden, "Only the admin token (or, without one, this machine) may change things");
                }
            }

            if (metadata.OfType<EnableRateLimitingAttribute>().Any())
            {
                AddProblem(operation, context.Document!, StatusCodes.Status429TooManyRequests, "Too many requests; Retry-After says when to try again");
            }
        });
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "Heartbeat",
                Version = "1",
                Description = "Heartbeats in; hosts, their liveness and events out. Reads need the read or the admin token when a read token is set; "
                    + "changes need the admin token (without one, they are allowed from the server's own machine only). "
                    + "Errors are problem+json (RFC 9457).",
            };
            document.Servers = [new OpenApiServer { Url = "/", Description = "The server this document came from" }];

            // Open unless an operation says otherwise (those under the read or admin policy do).
            document.Security = [new OpenApiSecurityRequirement()];
            document.Tags = new HashSet<OpenApiTag>
            {
                new() { Name = Beats, Description = "Heartbeats in every shape: the seed's POST /, ping URLs, Uptime Kuma and Consul; open, or with --token" },
                new() { Name = Hosts, Description = "The JSON API: hosts, their history and settings, maintenance, the event stream" },
                new() { Name = Notifiers, Description = "Webhooks and commands, and a test notification" },
                new() { Name = Pages, Description = "The status page, the host pages and their forms, the public status page" },
                new() { Name = Badges, Description = "Status badges (--public-badges opens them to anyone)" },
                new() { Name = Session, Description = "A login session for the page" },
                new() { Name = Operations, Description = "Prometheus metrics and health" },
            };
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>
            {
                [TokenScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    Description = "--read-token or --admin-token; reads also take ?token=, and the page a session from /login",
                },
            };
            AddOtherEndpoints(document);
            return Task.CompletedTask;
        });
    });

    public static IEndpointRouteBuilder MapApiDocument(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi(Path).RequireAccess();
        return app;
    }

    // The problem answers an endpoint (or each endpoint of a group) may give, each as problem+json.
    public static TBuilder Problems<TBuilder>(this TBuilder endpoints, params int[] statuses)
        where TBuilder : IEndpointConventionBuilder
    {
        foreach (var status in statuses)
        {
            endpoints.WithMetadata(new ProducesResponseTypeMetadata(status, typeof(ProblemDetails), [Problem]));
        }

        return endpoints;
    }

    // Produces and Accepts for a group as well as for one endpoint.
    public static TBuilder Responds<TBuilder>(this TBuilder endpoints, int status, Type? type, params string[] contentTypes)
        where TBuilder : IEndpointConventionBuilder => endpoints.WithMetadata(new ProducesResponseTypeMetadata(status, type, contentTypes));

    // The body an endpoint reads by itself, for the document only: Accepts would also make routing refuse other
    // content types with 415, and the seed's curl sends its JSON as a form post.
    public static TBuilder Takes<TBuilder>(this TBuilder endpoints, Type type, string contentType)
        where TBuilder : IEndpointConventionBuilder => endpoints.WithMetadata(new DocumentedBody(type, contentType));

    private static void AddOtherEndpoints(OpenApiDocument document)
    {
        var readGuard = new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(TokenScheme, document)] = [] };
        document.Paths.Add("/metrics", new OpenApiPathItem
        {
            Operations = new()
            {
                [HttpMethod.Get] = new OpenApiOperation
                {
                    OperationId = "Metrics",
                    Summary = "Prometheus metrics: beats, rejections, hosts by state, a series per host, the log and the store, notifications",
                    Tags = new HashSet<OpenApiTagReference> { new(Operations, document) },
                    Security = [readGuard],
                    Responses = new OpenApiResponses
                    {
                        ["200"] = Text("The metrics in Prometheus's text format", "text/plain"),
                        ["401"] = ProblemResponse(document, "A token is needed"),
                    },
                },
            },
        });
        document.Paths.Add("/healthz", new OpenApiPathItem
        {
            Operations = new()
            {
                [HttpMethod.Get] = new OpenApiOperation
                {
                    OperationId = "Health",
                    Summary = "Whether the heartbeat log and the store take writes, each check with its last write and error; open to anyone",
                    Tags = new HashSet<OpenApiTagReference> { new(Operations, document) },
                    Responses = new OpenApiResponses
                    {
                        ["200"] = Text("Healthy", "application/json"),
                        ["503"] = Text("The log or the store cannot be written: each check says why", "application/json"),
                    },
                },
            },
        });

        // Uptime Kuma's push URL answers any method; its clients use GET.
        var push = new OpenApiPathItem { Operations = [] };
        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Post })
        {
            push.Operations[method] = new OpenApiOperation
            {
                OperationId = "KumaPush" + CultureInfo.InvariantCulture.TextInfo.ToTitleCase(method.Method.ToLowerInvariant()),
                Summary = "A beat in the shape of Uptime Kuma's push URL (any method); the push token names the host",
                Tags = new HashSet<OpenApiTagReference> { new(Beats, document) },
                Parameters =
                [
                    new OpenApiParameter { Name = "token", In = ParameterLocation.Path, Required = true, Schema = new OpenApiSchema { Type = JsonSchemaType.String } },
                    new OpenApiParameter { Name = "status", In = ParameterLocation.Query, Schema = new OpenApiSchema { Type = JsonSchemaType.String, Enum = ["up", "down", "pending"] } },
                    new OpenApiParameter { Name = "msg", In = ParameterLocation.Query, Schema = new OpenApiSchema { Type = JsonSchemaType.String } },
                ],
                Responses = new OpenApiResponses
                {
                    ["200"] = Text("Accepted, answered {\"ok\":true} as Uptime Kuma answers", "application/json"),
                    ["400"] = ProblemResponse(document, "Bad Request"),
                    ["401"] = ProblemResponse(document, "Unauthorized"),
                    ["429"] = ProblemResponse(document, "Too Many Requests"),
                    ["503"] = ProblemResponse(document, "Service Unavailable"),
                },
            };
        }

        document.Paths.Add("/api/push/{token}", push);

        // HEAD is answered as GET is, without the body.
        foreach (var path in new[] { "/metrics", "/healthz" })
        {
            var get = document.Paths[path].Operations![HttpMethod.Get];
            document.Paths[path].Operations![HttpMethod.Head] = new OpenApiOperation(get) { OperationId = get.OperationId + "Head" };
        }
    }

    // The generator keeps one body a status (the last one declared, which is the JSON one where there are two) and
    // drops answers without one (a redirect): the text bodies (HTML, SVG) and those answers are added back here.
    private static void AddUntypedResponses(OpenApiOperation operation, IList<object> metadata)
    {
        foreach (var produced in metadata.OfType<IProducesResponseTypeMetadata>())
        {
            operation.Responses ??= [];
            var key = produced.StatusCode.ToString(CultureInfo.InvariantCulture);
            if (!operation.Responses.TryGetValue(key, out var response))
            {
                operation.Responses[key] = response = new OpenApiResponse { Description = ReasonPhrases.GetReasonPhrase(produced.StatusCode) };
            }

            if (produced.Type == typeof(string) && response is OpenApiResponse text)
            {
                text.Content ??= new Dictionary<string, OpenApiMediaType>();
                foreach (var contentType in produced.ContentTypes)
                {
                    text.Content.TryAdd(contentType, new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String } });
                }
            }
        }
    }

    // A record's schema among the components, referred to by name; a dictionary's inline.
    private static IOpenApiSchema Named(OpenApiDocument document, Type type, OpenApiSchema schema)
    {
        if (type.IsGenericType)
        {
            return schema;
        }

        document.AddComponent(type.Name, schema);
        return new OpenApiSchemaReference(type.Name, document);
    }

    private static void AddProblem(OpenApiOperation operation, OpenApiDocument document, int status, string description)
    {
        operation.Responses ??= [];
        operation.Responses.TryAdd(status.ToString(CultureInfo.InvariantCulture), ProblemResponse(document, description));
    }

    private static OpenApiResponse ProblemResponse(OpenApiDocument document, string description) => new()
    {
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType> { [Problem] = new() { Schema = new OpenApiSchemaReference("ProblemDetails", document) } },
    };

    private static OpenApiResponse Text(string description, string contentType) => new()
    {
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType> { [contentType] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String } } },
    };
}

internal sealed record DocumentedBody(Type Type, string ContentType);
