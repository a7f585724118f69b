using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Heartbeat.Server.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.RateLimiting;

namespace Heartbeat.Server.Security;

// Token buckets per source address (every request) and per host (beats). The defaults, 100 requests a
// second per address and 5 beats a second per host, each with bursts of ten times that, are far above
// what agents send (one beat a minute, or a few hundred hosts behind one NAT) but stop a flood.
internal static class RateLimits
{
    // The policy of the host list and the page: at most half the cores render lists at once, so however many read,
    // beats keep the other half. Readers past that wait their turn (up to 100 of them; more get a 429).
    public const string HostList = "host-list";

    public static IServiceCollection AddAddressRateLimit(this IServiceCollection services, SecurityOptions options) =>
        services.AddRateLimiter(limiter =>
        {
            limiter.OnRejected = (context, cancellationToken) => RejectAsync(context.HttpContext, context.Lease);
            limiter.AddConcurrencyLimiter(HostList, list =>
            {
                list.PermitLimit = Math.Max(1, Environment.ProcessorCount / 2);
                list.QueueLimit = 100;
                list.QueueProcessingOrder = QueueProcessingOrder.OldestFirst;
            });
            if (options.RequestsPerSecondPerAddress > 0)
            {
                limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, IPAddress>(context => RateLimitPartition.GetTokenBucketLimiter(
                    context.Connection.RemoteIpAddress ?? IPAddress.None,
                    _ => Bucket(options.RequestsPerSecondPerAddress)));
            }
        });

    // A per-host limiter for beats, or null when turned off.
    public static PartitionedRateLimiter<string>? PerHost(SecurityOptions options) => options.BeatsPerSecondPerHost > 0
        ? PartitionedRateLimiter.Create<string, string>(host => RateLimitPartition.GetTokenBucketLimiter(host, _ => Bucket(options.BeatsPerSecondPerHost)))
        : null;

    // 429 with Retry-After, in seconds, as the limiter says; why, when given, comes before the wait in the detail.
    public static ProblemHttpResult TooMany(HttpContext context, RateLimitLease lease, string title = "Too many requests", string? why = null)
    {
        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Problem(
            title: title,
            detail: why is null ? $"Slow down: try again in {seconds} s." : $"{why} Try again in {seconds} s.",
            statusCode: StatusCodes.Status429TooManyRequests);
    }

    private static ValueTask RejectAsync(HttpContext context, RateLimitLease lease)
    {
        context.RequestServices.GetRequiredService<ServerMetrics>().Rejected("rate_limited");
        return new ValueTask(TooMany(context, lease).ExecuteAsync(context));
    }

    private static TokenBucketRateLimiterOptions Bucket(int perSecond) => new()
    {
        TokenLimit = perSecond * 10,
        TokensPerPeriod = perSecond,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        QueueLimit = 0,
        AutoReplenishment = true,
    };
}
