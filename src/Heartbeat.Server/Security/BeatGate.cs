using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Heartbeat.Server.Security;

// What a valid beat must still pass: its token (when the server wants one), then its host's rate limit.
internal sealed class BeatGate(Tokens tokens, SecurityOptions options) : IDisposable
{
    private readonly PartitionedRateLimiter<string>? _perHost = RateLimits.PerHost(options);

    // Null when the beat may pass; otherwise the answer that refuses it.
    public ProblemHttpResult? Check(HttpContext context, string identity, string? token)
    {
        if (!tokens.AllowsBeat(identity, token))
        {
            return AccessControl.Denied(context, token, "beat");
        }

        if (_perHost is null)
        {
            return null;
        }

        using var lease = _perHost.AttemptAcquire(identity);
        return lease.IsAcquired ? null : RateLimits.TooMany(context, lease);
    }

    public void Dispose() => _perHost?.Dispose();
}
