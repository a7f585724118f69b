using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Heartbeat.Server.Security;

// The answers that refuse a request its access: problem+json that never says which tokens exist or what they are.
internal static class AccessControl
{
    // The token of a beat: a bearer token, or ?token= (ping URLs are often all a cron job can send).
    public static string? TokenOf(HttpRequest request) => Tokens.FromHeader(request) ?? request.Query["token"].FirstOrDefault();

    // 401 without a token, 403 with a wrong one.
    public static ProblemHttpResult Denied(HttpContext context, string? given, string access)
    {
        if (given is null)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return TypedResults.Problem(
                title: "Token required",
                detail: $"This server needs a {access} token: send it as 'Authorization: Bearer <token>', or log in at /login.",
                statusCode: StatusCodes.Status401Unauthorized);
        }

        return TypedResults.Problem(
            title: "Token refused",
            detail: $"The token does not grant {access} access.",
            statusCode: StatusCodes.Status403Forbidden);
    }
}

// What a request refused by the read or admin policy gets: 401 when it brought nothing and a token would do (a browser
// asking for a page is sent to /login instead), else 403 saying why.
internal sealed class AccessDenied : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _framework = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult result)
    {
        if (result.Succeeded || policy.Requirements.OfType<AccessRequirement>().FirstOrDefault() is not { } requirement)
        {
            return _framework.HandleAsync(next, context, policy, result);
        }

        var request = context.Request;
        var broughtNothing = Access.CredentialOf(request) is null && context.User.Identity?.IsAuthenticated != true;
        if (broughtNothing && requirement.TokenSet(context))
        {
            if (Access.IsRead(request) && request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase))
            {
                var back = Uri.EscapeDataString($"{request.PathBase}{request.Path}{request.QueryString}");
                context.Response.Redirect($"/login?return={back}");
                return Task.CompletedTask;
            }

            return AccessControl.Denied(context, given: null, requirement.Access).ExecuteAsync(context);
        }

        // Without a principal the framework passes on no reasons (a challenge); the requirement knows them anyway.
        var failure = result.AuthorizationFailure?.FailureReasons.OfType<AccessFailure>().FirstOrDefault() ?? requirement.Refusal(context);
        return TypedResults.Problem(
            title: failure.Title,
            detail: failure.Message,
            statusCode: StatusCodes.Status403Forbidden).ExecuteAsync(context);
    }
}
