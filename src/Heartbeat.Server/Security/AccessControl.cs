using Microsoft.AspNetCore.Http.HttpResults;

namespace Heartbeat.Server.Security;

/// <summary>Endpoint filters for read and admin access, and the answers that say which token is missing.</summary>
internal static class AccessControl
{
    /// <summary>Reading needs the read (or admin) token, as a bearer token or ?token= (a browser's EventSource cannot send headers).</summary>
    public static TBuilder RequireRead<TBuilder>(this TBuilder endpoints)
        where TBuilder : IEndpointConventionBuilder =>
        endpoints.AddEndpointFilter(async (context, next) =>
        {
            var token = TokenOf(context.HttpContext.Request);
            return context.HttpContext.RequestServices.GetRequiredService<Tokens>().AllowsRead(token)
                ? await next(context)
                : Denied(context.HttpContext, token, "read");
        });

    public static TBuilder RequireAdmin<TBuilder>(this TBuilder endpoints)
        where TBuilder : IEndpointConventionBuilder =>
        endpoints.AddEndpointFilter(async (context, next) =>
        {
            var token = Tokens.FromHeader(context.HttpContext.Request);
            return context.HttpContext.RequestServices.GetRequiredService<Tokens>().AllowsAdmin(token)
                ? await next(context)
                : Denied(context.HttpContext, token, "admin");
        });

    public static string? TokenOf(HttpRequest request) => Tokens.FromHeader(request) ?? request.Query["token"].FirstOrDefault();

    /// <summary>401 without a token, 403 with a wrong one; neither says which tokens exist or what they are.</summary>
    public static ProblemHttpResult Denied(HttpContext context, string? given, string access)
    {
        if (given is null)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return TypedResults.Problem(
                title: "Token required",
                detail: $"This server needs a {access} token: send it as 'Authorization: Bearer <token>'.",
                statusCode: StatusCodes.Status401Unauthorized);
        }

        return TypedResults.Problem(
            title: "Token refused",
            detail: $"The token does not grant {access} access.",
            statusCode: StatusCodes.Status403Forbidden);
    }
}
