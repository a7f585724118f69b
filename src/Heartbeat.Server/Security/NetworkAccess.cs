using System.Collections.Concurrent;
using System.Net;
using Heartbeat.Server.Diagnostics;
using Microsoft.AspNetCore.HttpOverrides;

namespace Heartbeat.Server.Security;

internal static partial class NetworkAccess
{
    // X-Forwarded-For is believed only from the --trust-proxy networks, and only then: without them the
    // middleware is not even added, so no client can pretend to be someone else.
    public static IApplicationBuilder UseTrustedProxies(this IApplicationBuilder app, SecurityOptions options)
    {
        if (options.TrustProxy.Count == 0)
        {
            return app;
        }

        var forwarded = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto, ForwardLimit = 1 };
        forwarded.KnownIPNetworks.Clear();
        forwarded.KnownProxies.Clear();
        foreach (var network in options.TrustProxy)
        {
            forwarded.KnownIPNetworks.Add(network);
        }

        return app.UseForwardedHeaders(forwarded);
    }

    // Only the --allow networks may talk to the server; others get 403, and one log line per address a minute. A reload
    // can set the networks where there were none, so the check stays in place.
    public static IApplicationBuilder UseAllowList(this IApplicationBuilder app)
    {
        var allow = app.ApplicationServices.GetRequiredService<AllowList>();
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(NetworkAccess).FullName!);
        var time = app.ApplicationServices.GetRequiredService<TimeProvider>();
        var lastLogged = new ConcurrentDictionary<IPAddress, DateTimeOffset>();
        return app.Use((context, next) =>
        {
            var networks = allow.Networks;
            if (networks.Count == 0)
            {
                return next(context);
            }

            var address = context.Connection.RemoteIpAddress is { IsIPv4MappedToIPv6: true } mapped ? mapped.MapToIPv4() : context.Connection.RemoteIpAddress;
            return address is not null && networks.Any(network => network.Contains(address)) ? next(context) : Refuse(context, address);
        });

        Task Refuse(HttpContext context, IPAddress? address)
        {
            context.RequestServices.GetRequiredService<ServerMetrics>().Rejected("not_allowed");
            var now = time.GetUtcNow();
            if (address is not null && (!lastLogged.TryGetValue(address, out var last) || now - last > TimeSpan.FromMinutes(1)))
            {
                if (lastLogged.Count > 10_000)
                {
                    lastLogged.Clear(); // bounded, whatever the spread of addresses
                }

                lastLogged[address] = now;
                LogRefused(logger, address);
            }

            return TypedResults.Problem(
                title: "Address not allowed",
                detail: "This server does not accept requests from your address.",
                statusCode: StatusCodes.Status403Forbidden).ExecuteAsync(context);
        }
    }

    // A request from this machine's own loopback. One that still carries X-Forwarded-For came through a proxy that is
    // not trusted (a local nginx without --trust-proxy, say): it may come from anywhere, so it is not local.
    public static bool IsThisMachine(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } address
        && IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address)
        && !context.Request.Headers.ContainsKey("X-Forwarded-For")
        && !context.Request.Headers.ContainsKey("Forwarded");

    [LoggerMessage(EventId = 510, Level = LogLevel.Warning, Message = "Refused requests from {Address}: not in --allow (logged at most once a minute per address)")]
    private static partial void LogRefused(ILogger logger, IPAddress address);
}

// The --allow networks; empty allows everyone. Read again on SIGHUP.
internal sealed class AllowList(SecurityOptions options)
{
    private volatile IReadOnlyList<System.Net.IPNetwork> _networks = options.Allow;

    public IReadOnlyList<System.Net.IPNetwork> Networks => _networks;

    public void Use(SecurityOptions reloaded) => _networks = reloaded.Allow;
}
