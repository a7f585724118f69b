using System.Threading.RateLimiting;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Heartbeat.Server.Ingest;

// Whether a beat (or an admin's PUT) may add a host: at most --max-hosts in all, and from one address at most
// --max-new-hosts-per-minute. Asked before the beat's line is written, so a refused beat leaves no trace; known hosts
// always pass. Each bound is reported once in the server's log, not once per refused beat.
internal sealed partial class HostAdmission : IDisposable
{
    private readonly HostRegistry _registry;
    private readonly HostsOptions _options;
    private readonly ILogger<HostAdmission> _logger;
    private readonly PartitionedRateLimiter<string>? _perAddress;

    // One warning per address per minute; the limiter drops the windows of quiet addresses by itself.
    private readonly PartitionedRateLimiter<string> _warnings = PartitionedRateLimiter.Create<string, string>(peer =>
        RateLimitPartition.GetFixedWindowLimiter(peer, _ => Window(1)));

    private int _pending; // new hosts let in whose beats are not in the registry yet: counted against the cap
    private int _full; // 1 once the cap was reported, until a new host fits again

    public HostAdmission(HostRegistry registry, HostsOptions options, ILogger<HostAdmission> logger)
    {
        (_registry, _options, _logger) = (registry, options, logger);
        if (options.MaxNewHostsPerMinute > 0)
        {
            _perAddress = PartitionedRateLimiter.Create<string, string>(peer =>
                RateLimitPartition.GetFixedWindowLimiter(peer, _ => Window(options.MaxNewHostsPerMinute)));
        }
    }

    // Null when the host may be recorded (dispose the slot once it is); otherwise the answer that refuses it. A beat
    // is held to its address's bound too (fromAddress), an admin's PUT only to the cap.
    public ProblemHttpResult? Check(HttpContext context, string id, string? fromAddress, out NewHostSlot slot)
    {
        slot = default;
        if (_registry.Knows(id))
        {
            return null;
        }

        if (Interlocked.Increment(ref _pending) + _registry.Count > _options.MaxHosts)
        {
            Interlocked.Decrement(ref _pending);
            if (Interlocked.Exchange(ref _full, 1) == 0)
            {
                LogCapReached(_logger, _registry.Count, _options.MaxHosts);
            }

            return IngestEndpoints.Refused(context, "host_limit", TypedResults.Problem(
                title: "Too many hosts",
                detail: $"The server tracks {_registry.Count} hosts, its limit (--max-hosts {_options.MaxHosts}, HEARTBEAT_MAX_HOSTS): "
                    + "no new host is added until some are forgotten or the limit is raised. Beats of known hosts are still accepted.",
                statusCode: StatusCodes.Status503ServiceUnavailable));
        }

        if (fromAddress is not null && _perAddress is not null)
        {
            using var lease = _perAddress.AttemptAcquire(fromAddress);
            if (!lease.IsAcquired)
            {
                Interlocked.Decrement(ref _pending);
                using (var warning = _warnings.AttemptAcquire(fromAddress))
                {
                    if (warning.IsAcquired)
                    {
                        LogAddressLimited(_logger, fromAddress, _options.MaxNewHostsPerMinute);
                    }
                }

                return IngestEndpoints.Refused(context, "new_host_rate", RateLimits.TooMany(
                    context,
                    lease,
                    "Too many new hosts",
                    $"This address added {_options.MaxNewHostsPerMinute} new hosts within a minute, its limit "
                        + "(--max-new-hosts-per-minute, HEARTBEAT_MAX_NEW_HOSTS_PER_MINUTE). Beats of known hosts are not held back."));
            }
        }

        Volatile.Write(ref _full, 0);
        slot = new NewHostSlot(this);
        return null;
    }

    // After a restart: stored hosts are all kept and served even past the cap (a lower --max-hosts loses nothing);
    // only new ones wait until there are fewer.
    public void Restored()
    {
        if (_registry.Count >= _options.MaxHosts)
        {
            _full = 1;
            LogRestoredOverCap(_logger, _registry.Count, _options.MaxHosts);
        }
    }

    public void Dispose()
    {
        _perAddress?.Dispose();
        _warnings.Dispose();
    }

    private void Release() => Interlocked.Decrement(ref _pending);

    // A fixed window of a minute; idle partitions are replenished (and dropped) by the partitioned limiter's own timer.
    private static FixedWindowRateLimiterOptions Window(int permits) => new()
    {
        PermitLimit = permits,
        Window = TimeSpan.FromMinutes(1),
        QueueLimit = 0,
        AutoReplenishment = false,
    };

    [LoggerMessage(EventId = 600, Level = LogLevel.Warning, Message = "The server tracks {Count} hosts, its limit (--max-hosts {Max}): beats of new hosts are refused with 503 until some are forgotten; known hosts go on as before")]
    private static partial void LogCapReached(ILogger logger, int count, int max);

    [LoggerMessage(EventId = 601, Level = LogLevel.Warning, Message = "Restored {Count} hosts, at or past the limit (--max-hosts {Max}): every one is kept and served, but beats of new hosts are refused with 503 until there are fewer")]
    private static partial void LogRestoredOverCap(ILogger logger, int count, int max);

    [LoggerMessage(EventId = 602, Level = LogLevel.Warning, Message = "{Peer} added {Max} new hosts within a minute (--max-new-hosts-per-minute): more new hosts from it are refused with 429 for the rest of the minute")]
    private static partial void LogAddressLimited(ILogger logger, string peer, int max);

    // The place of one new host, held from the check until its beat is in the registry.
    internal readonly struct NewHostSlot(HostAdmission? owner) : IDisposable
    {
        public void Dispose() => owner?.Release();
    }
}
