using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using Heartbeat.Server.ApiDocs;
using Heartbeat.Server.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Heartbeat.Server.Web;

// GET /login asks for the read or admin token once, and a session cookie carries it from then on, so that no token
// sits in an address bar, a history or a proxy's log. POST /logout ends the session. Both forms carry antiforgery tokens.
internal static class LoginEndpoints
{
    private static readonly HtmlEncoder Html = HtmlEncoder.Default;

    public static IEndpointRouteBuilder MapLogin(this IEndpointRouteBuilder app)
    {
        var forms = app.MapGroup(string.Empty).RequireAuthorization(Access.Session).RequireAntiforgery().WithTags(ApiDocument.Session);
        forms.MapGet("/login", (HttpContext context, Tokens tokens, [FromQuery(Name = "return")] string? returnTo) =>
            Page(context, tokens, returnTo, error: null))
            .WithName("LoginPage").WithSummary("The login form").Produces<string>(StatusCodes.Status200OK, "text/html");
        forms.MapPost("/login", LogInAsync).WithName("LogIn").WithSummary("A session for the page from the read or admin token (field: token)")
            .Takes(typeof(Dictionary<string, string>), "application/x-www-form-urlencoded").Produces(StatusCodes.Status302Found)
            .Produces<string>(StatusCodes.Status401Unauthorized, "text/html");
        forms.MapPost("/logout", async (HttpContext context) =>
        {
            await context.SignOutAsync(Access.CookieScheme);
            return TypedResults.Redirect("/login");
        }).WithName("LogOut").WithSummary("Ends the session").Produces(StatusCodes.Status302Found);
        return app;
    }

    // For the top of a page: a logout button in a session, a login link where a token would grant more.
    public static string SessionControls(HttpContext context, Tokens tokens) =>
        context.User.Identity is { IsAuthenticated: true, AuthenticationType: Access.CookieScheme }
            ? $"<form class=\"session\" method=\"post\" action=\"/logout\">{PageForms.AntiforgeryField(context)}<button type=\"submit\">Log out</button></form>"
            : tokens.ReadsNeedToken || tokens.AdminNeedsToken ? "<p class=\"session\"><a href=\"/login\">Log in</a></p>" : string.Empty;

    // The form is read here, once RequireAntiforgery has passed it, not bound before.
    private static async Task<Results<ContentHttpResult, RedirectHttpResult>> LogInAsync(HttpContext context, Tokens tokens)
    {
        var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync(context.RequestAborted) : FormCollection.Empty;
        var (token, returnTo) = (form["token"].FirstOrDefault(), form["return"].FirstOrDefault());
        if (string.IsNullOrEmpty(token) || tokens.AccessOf(token) is not { } access)
        {
            return Page(context, tokens, returnTo, "That token is not valid here.");
        }

        await context.SignInAsync(Access.CookieScheme, Access.Principal(access, Access.CookieScheme));
        return TypedResults.Redirect(IsLocalPath(returnTo) ? returnTo! : "/");
    }

    private static ContentHttpResult Page(HttpContext context, Tokens tokens, string? returnTo, string? error)
    {
        var page = new StringBuilder(1024);
        page.Append("""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Log in - Heartbeat</title>
            <link rel="stylesheet" href="/assets/status.css">
            </head>
            <body>
            <main class="login">
            <h1>Heartbeat</h1>

            """);
        if (!tokens.ReadsNeedToken && !tokens.AdminNeedsToken)
        {
            page.Append("<p>This server has neither a read nor an admin token, so there is nothing to log in to: <a href=\"/\">the page</a> is open, and changes are allowed from the server's own machine only.</p>\n");
        }
        else
        {
            page.Append(CultureInfo.InvariantCulture, $"""
                <form class="login" method="post" action="/login">
                <label for="token">Read or admin token</label>
                <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
                <input type="hidden" name="return" value="{Html.Encode(IsLocalPath(returnTo) ? returnTo! : "/")}">
                {PageForms.AntiforgeryField(context)}
                <button type="submit">Log in</button>
                </form>

                """);
            if (error is not null)
            {
                page.Append(CultureInfo.InvariantCulture, $"<p class=\"error\" role=\"alert\">{Html.Encode(error)}</p>\n");
            }
        }

        page.Append("</main>\n</body>\n</html>\n");
        return TypedResults.Text(page.ToString(), "text/html; charset=utf-8", Encoding.UTF8, error is null ? StatusCodes.Status200OK : StatusCodes.Status401Unauthorized);
    }

    // Only a path on this server: "//elsewhere" or "/\elsewhere" would send the browser to another site.
    private static bool IsLocalPath(string? path) =>
        path is ['/', ..] && (path.Length == 1 || path[1] is not ('/' or '\\')) && !path.Any(char.IsControl);
}
