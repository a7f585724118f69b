using System.Security.Claims;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;

namespace Heartbeat.Server.Security;

// Who may do what, with ASP.NET Core's authentication and authorization. Reading (the page, the API, the event
// stream, metrics) needs the read or admin token once a read token is set; every change but a beat needs the admin
// token, and is allowed from this machine only while none is set. Scripts send a token; people log in at /login
// and get a session cookie.
internal static class Access
{
    public const string Read = "read";
    public const string Admin = "admin";

    // No access needed, but the session cookie is read: a page's forms carry antiforgery tokens bound to it.
    public const string Session = "session";

    // The token a request carries, else its session cookie.
    public const string Scheme = "heartbeat";
    public const string TokenScheme = "token";
    public const string CookieScheme = CookieAuthenticationDefaults.AuthenticationScheme;

    public static IServiceCollection AddAccessControl(this IServiceCollection services, SecurityOptions options)
    {
        // The names the page answers to and the networks that may talk to the server; a reload (SIGHUP) updates both.
        services.AddSingleton(new HostNames(options));
        services.AddSingleton(new AllowList(options));

        // Keys live in memory only: nothing secret is written to disk, and a restart (with new tokens, say) ends every session.
        services.AddDataProtection().UseEphemeralDataProtectionProvider();

        // No default scheme: only the endpoints that ask for access (or a session) look at tokens and cookies, never a beat.
        services.AddAuthentication()
            .AddPolicyScheme(Scheme, displayName: null, policy => policy.ForwardDefaultSelector = context =>
                CredentialOf(context.Request) is null ? CookieScheme : TokenScheme)
            .AddScheme<AuthenticationSchemeOptions, TokenAuthentication>(TokenScheme, displayName: null, _ => { })
            .AddCookie(CookieScheme, cookie =>
            {
                cookie.Cookie.Name = "heartbeat_session";
                cookie.Cookie.HttpOnly = true;
                cookie.Cookie.SameSite = SameSiteMode.Strict;
                cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest; // Secure under TLS (or behind a trusted proxy's https)
                cookie.ExpireTimeSpan = TimeSpan.FromHours(12);
                cookie.SlidingExpiration = true;
            });
        services.AddAuthorizationBuilder()
            .AddPolicy(Read, policy => policy.AddAuthenticationSchemes(Scheme).AddRequirements(new AccessRequirement(Read)))
            .AddPolicy(Admin, policy => policy.AddAuthenticationSchemes(Scheme).AddRequirements(new AccessRequirement(Admin)))
            .AddPolicy(Session, policy => policy.AddAuthenticationSchemes(CookieScheme).RequireAssertion(_ => true));
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, AccessDenied>();
        services.AddAntiforgery(antiforgery =>
        {
            antiforgery.Cookie.Name = "heartbeat_antiforgery";
            antiforgery.Cookie.SameSite = SameSiteMode.Strict;
            antiforgery.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            antiforgery.SuppressXFrameOptionsHeader = true; // SecurityHeaders sends DENY already
        });
        return services;
    }

    // After routing, so that each check knows the endpoint and what it asks for.
    public static IApplicationBuilder UseAccessControl(this IApplicationBuilder app) => app
        .UseAuthentication()
        .UseAuthorization()
        .UseAntiforgery();

    // Every endpoint of a group (or one endpoint) needs read access for GET and HEAD, and admin access for any other
    // method. Applied last, to whatever the group holds then: an endpoint added to it later is covered without a word.
    public static TBuilder RequireAccess<TBuilder>(this TBuilder endpoints)
        where TBuilder : IEndpointConventionBuilder
    {
        endpoints.Finally(endpoint =>
        {
            var methods = endpoint.Metadata.OfType<IHttpMethodMetadata>().LastOrDefault()?.HttpMethods ?? [];
            var reads = methods.Count > 0 && methods.All(m => HttpMethods.IsGet(m) || HttpMethods.IsHead(m));
            endpoint.Metadata.Add(new AuthorizeAttribute(reads ? Read : Admin));
        });
        return endpoints;
    }

    // The read or admin token of a request: a bearer token, or ?token= on a read (an EventSource cannot send headers).
    public static string? CredentialOf(HttpRequest request) =>
        Tokens.FromHeader(request) ?? (IsRead(request) ? request.Query["token"].FirstOrDefault() : null);

    public static bool IsRead(HttpRequest request) => HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method);

    // The admin token grants reading too.
    public static ClaimsPrincipal Principal(string access, string scheme)
    {
        Claim[] roles = access == Admin ? [new(ClaimTypes.Role, Admin), new(ClaimTypes.Role, Read)] : [new(ClaimTypes.Role, Read)];
        return new ClaimsPrincipal(new ClaimsIdentity(roles, scheme));
    }
}

// Read or admin access, as Access describes it; its own handler.
internal sealed class AccessRequirement(string access) : AuthorizationHandler<AccessRequirement>, IAuthorizationRequirement
{
    public string Access => access;

    // Whether the server has a token for this access now (a reload may give or take one).
    public bool TokenSet(HttpContext context)
    {
        var tokens = context.RequestServices.GetRequiredService<Tokens>();
        return access == Security.Access.Read ? tokens.ReadsNeedToken : tokens.AdminNeedsToken;
    }

    // Why a request without this access is refused.
    public AccessFailure Refusal(HttpContext context) => TokenSet(context)
        ? new AccessFailure(this, "Token refused", $"This needs the {access} token; the one given does not grant {access} access.")
        : new AccessFailure(this, "Only from this machine", "No admin token is set, so changes are allowed only from the server's own machine; start it with --admin-token to make them from elsewhere.");

    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, AccessRequirement requirement)
    {
        var http = (HttpContext)context.Resource!;
        var granted = context.User.IsInRole(access) || (!TokenSet(http) && (access == Security.Access.Read || NetworkAccess.IsThisMachine(http)));
        if (!granted)
        {
            context.Fail(Refusal(http));
            return;
        }

        // A browser sends the session cookie with every request to the server, so a change made with one must carry
        // the antiforgery token of a page the server rendered.
        if (!Security.Access.IsRead(http.Request) && context.User.Identity?.AuthenticationType == Security.Access.CookieScheme
            && !await http.RequestServices.GetRequiredService<IAntiforgery>().IsRequestValidAsync(http))
        {
            context.Fail(new AccessFailure(this, "Antiforgery token missing", "A change made from a logged-in page must carry the page's antiforgery token."));
            return;
        }

        context.Succeed(requirement);
    }
}

internal sealed class AccessFailure(IAuthorizationHandler handler, string title, string detail) : AuthorizationFailureReason(handler, detail)
{
    public string Title => title;
}
