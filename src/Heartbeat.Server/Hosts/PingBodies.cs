using Heartbeat.Server.Diagnostics;
using Heartbeat.Server.Settings;

namespace Heartbeat.Server.Hosts;

// The memory that kept ping bodies take, bounded in total by --max-body-memory and counted as held (2 bytes a
// character). The rule: a body that would take the total past the bound is not kept; the host still records the ping's
// time and kind, with no text, and the API says "kept": false. A body in place of one no smaller always fits, so
// hosts that have a body keep theirs current. Restored bodies are all kept: the bound applies to new ones.
internal sealed partial class PingBodies(HostsOptions options, ServerMetrics metrics, ILogger<PingBodies> logger)
{
    private long _bytes;
    private int _full; // 1 once a dropped body was reported, until one fits again

    public long Bytes => Interlocked.Read(ref _bytes);

    // Called under the host's lock after anything that may have changed its body; before is the body it had.
    public void Settle(HostRecord host, PingBody? before)
    {
        var body = host.LastBody;
        if (ReferenceEquals(body, before))
        {
            return;
        }

        var size = SizeOf(body);
        var total = Interlocked.Add(ref _bytes, size - SizeOf(before));
        if (size == 0 || total <= options.MaxBodyMemory)
        {
            Volatile.Write(ref _full, 0);
            return;
        }

        host.LastBody = body! with { Text = null };
        Interlocked.Add(ref _bytes, -size);
        metrics.PingBodiesDropped.Inc();
        if (Interlocked.Exchange(ref _full, 1) == 0)
        {
            LogFull(logger, ByteSize.Format(options.MaxBodyMemory));
        }
    }

    public void Restored(HostRecord host) => Interlocked.Add(ref _bytes, SizeOf(host.LastBody));

    public void Forgotten(HostRecord host) => Interlocked.Add(ref _bytes, -SizeOf(host.LastBody));

    private static long SizeOf(PingBody? body) => (body?.Text?.Length ?? 0) * (long)sizeof(char);

    [LoggerMessage(EventId = 210, Level = LogLevel.Warning, Message = "Ping bodies fill their memory (--max-body-memory {Limit}): new bodies are not kept (\"kept\": false in the API) until others are replaced or forgotten")]
    private static partial void LogFull(ILogger logger, string limit);
}
