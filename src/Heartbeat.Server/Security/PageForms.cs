using Microsoft.AspNetCore.Antiforgery;

namespace Heartbeat.Server.Security;

// Forms on the server's own pages (log in, log out, and whatever the dashboard adds): each carries an antiforgery
// token, bound to the session cookie, which a page on another site cannot read and so cannot send.
internal static class PageForms
{
    // A POST to these endpoints without a valid token gets 400 and does nothing.
    public static TBuilder RequireAntiforgery<TBuilder>(this TBuilder endpoints)
        where TBuilder : IEndpointConventionBuilder
    {
        // The antiforgery middleware checks the token of every endpoint with this metadata; the filter acts on its verdict.
        return endpoints.WithMetadata(new RequireAntiforgeryTokenAttribute()).AddEndpointFilter(async (context, next) =>
            Access.IsRead(context.HttpContext.Request) || context.HttpContext.Features.Get<IAntiforgeryValidationFeature>() is { IsValid: true }
                ? await next(context)
                : TypedResults.Problem(
                    title: "Form expired",
                    detail: "The form's antiforgery token is missing or out of date: reload the page and send it again.",
                    statusCode: StatusCodes.Status400BadRequest));
    }

    // The hidden field every form of a page must include.
    public static string AntiforgeryField(HttpContext context)
    {
        var tokens = context.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(context);
        return $"<input type=\"hidden\" name=\"{tokens.FormFieldName}\" value=\"{tokens.RequestToken}\">";
    }
}
