using Heartbeat.Server.Diagnostics;

namespace Heartbeat.Server.Security;

// What keeps other web sites out, through the browser of someone who can reach the server. A page elsewhere can
// make a browser send any form or text/plain POST here, and a DNS-rebinding page can even read the answers under a
// name of its own. So the page, API, event stream and metrics answer only to the server's own names (others get
// 421), and no request from a browser on another origin changes anything (403). Beats still come from agents,
// scripts and the seed's curl lines under any name: they send no Origin, which only browsers send.
internal static class BrowserGuard
{
    private const string FetchSite = "Sec-Fetch-Site";

    // Beats come here, under whatever name agents were given for the server; every method changes something.
    public static TBuilder ReceivesBeats<TBuilder>(this TBuilder endpoints)
        where TBuilder : IEndpointConventionBuilder => endpoints.WithMetadata(new OpenEndpoint(ChangesState: true));

    // True for a request routed to a beat endpoint.
    public static bool ReceivesBeat(HttpContext context) => context.GetEndpoint()?.Metadata.GetMetadata<OpenEndpoint>() is { ChangesState: true };

    // Answers to any name (a health check from a load balancer) and changes nothing.
    public static TBuilder ServesAnyHost<TBuilder>(this TBuilder endpoints)
        where TBuilder : IEndpointConventionBuilder => endpoints.WithMetadata(new OpenEndpoint(ChangesState: false));

    // After routing: what each endpoint allows depends on its metadata.
    public static IApplicationBuilder UseBrowserGuard(this IApplicationBuilder app)
    {
        var names = app.ApplicationServices.GetRequiredService<HostNames>();
        var metrics = app.ApplicationServices.GetRequiredService<ServerMetrics>();
        return app.Use((context, next) =>
        {
            var open = context.GetEndpoint()?.Metadata.GetMetadata<OpenEndpoint>();
            var fromBrowser = context.Request.Headers.Origin.Count > 0 || context.Request.Headers.ContainsKey(FetchSite);

            // An agent's beat or a health check: no name to look up, no origin to compare (and no async state for it).
            return open is not null && !fromBrowser ? next(context) : GuardAsync(context, next, open, fromBrowser);
        });

        async Task GuardAsync(HttpContext context, RequestDelegate next, OpenEndpoint? open, bool fromBrowser)
        {
            var request = context.Request;
            if ((open is null || fromBrowser) && !await names.AllowsAsync(request.Host))
            {
                metrics.Rejected("unknown_host");
                await TypedResults.Problem(
                    title: "Unknown server name",
                    detail: $"This server does not answer to the name '{request.Host.Host}'. Use its address, or start it with --allowed-host or --public-url naming it.",
                    statusCode: StatusCodes.Status421MisdirectedRequest).ExecuteAsync(context);
                return;
            }

            if ((open?.ChangesState == true || !IsSafe(request.Method)) && IsCrossOrigin(request, names.PublicOrigin))
            {
                metrics.Rejected("cross_origin");
                await TypedResults.Problem(
                    title: "Cross-origin request refused",
                    detail: "A page on another site cannot make changes here. Use the server's own page, or a client that is not a browser.",
                    statusCode: StatusCodes.Status403Forbidden).ExecuteAsync(context);
                return;
            }

            await next(context);
        }
    }

    private static bool IsSafe(string method) =>
        HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method);

    // The algorithm of Go's CrossOriginProtection and of .NET 11's CSRF middleware: a browser's Sec-Fetch-Site says
    // where a request comes from; older browsers send only Origin, to compare with the name the request was sent to;
    // with neither it is not a browser's.
    private static bool IsCrossOrigin(HttpRequest request, string? publicOrigin)
    {
        var site = request.Headers[FetchSite].ToString();
        if (site.Length > 0)
        {
            return site is not ("same-origin" or "none");
        }

        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return false;
        }

        // "null" (a sandboxed frame, a file:// page, a redirect from elsewhere) is no origin of ours either.
        var same = Uri.TryCreate(origin, UriKind.Absolute, out var uri)
            && (string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase)
                || string.Equals(uri.GetLeftPart(UriPartial.Authority), publicOrigin, StringComparison.OrdinalIgnoreCase));
        return !same;
    }
}

// Metadata of an endpoint that answers to any Host name; beats change state whatever their method.
internal sealed record OpenEndpoint(bool ChangesState);
