using Heartbeat.Protocol;
using Heartbeat.Server.Diagnostics;
using Microsoft.AspNetCore.Http.Features;

namespace Heartbeat.Server.Ingest;

// Kestrel takes dot segments ("." and "..", percent-encoded too) out of a path before routing, so a host named
// ".." in POST /ping/%2E%2E would reach POST / as a beat from the peer's address, and one named "."
// no route at all. The paths that carry a host name are checked as the client sent them, and such a name is
// refused like any other invalid one.
internal static class DotSegments
{
    // The ingress routes with a host name in their path: /ping/{host}, Uptime Kuma's /api/push/{token},
    // Consul's /v1/agent/check/{result}/{id}.
    private static readonly string[] HostPaths = ["/ping/", "/api/push/", "/v1/agent/check/"];

    public static IApplicationBuilder RefuseDotSegmentHosts(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        if (context.Features.Get<IHttpRequestFeature>()?.RawTarget is { } target && NamesDotSegmentHost(target))
        {
            context.RequestServices.GetRequiredService<ServerMetrics>().Rejected("invalid");
            return IngestEndpoints.Invalid(new HeartbeatError($"'host' must be {HeartbeatRules.HostRule}.", "host")).ExecuteAsync(context);
        }

        return next(context);
    });

    // True for a path under HostPaths with a segment that a URL parser would remove.
    private static bool NamesDotSegmentHost(ReadOnlySpan<char> target)
    {
        var query = target.IndexOf('?');
        var path = query < 0 ? target : target[..query];
        var under = false;
        foreach (var prefix in HostPaths)
        {
            under |= path.StartsWith(prefix, StringComparison.OrdinalIgnoreCase);
        }

        if (!under)
        {
            return false;
        }

        foreach (var range in path.Split('/'))
        {
            if (IsDotSegment(path[range]))
            {
                return true;
            }
        }

        return false;
    }

    // A dot may come percent-encoded ("%2e", RFC 3986 §2.3); Kestrel decodes it before it removes the segment.
    private static bool IsDotSegment(ReadOnlySpan<char> segment)
    {
        var dots = 0;
        while (!segment.IsEmpty)
        {
            var width = segment[0] == '.' ? 1 : segment.StartsWith("%2e", StringComparison.OrdinalIgnoreCase) ? 3 : 0;
            if (width == 0)
            {
                return false;
            }

            segment = segment[width..];
            dots++;
        }

        return dots is 1 or 2;
    }
}
