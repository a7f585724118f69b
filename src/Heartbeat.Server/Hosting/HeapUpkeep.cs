using System.Diagnostics;

namespace Heartbeat.Server.Hosting;

// The GC collects as the server allocates, and its background collections free space without handing it back, so a
// server that went quiet after a storm (a million hosts registering, then all turning down) kept 1,100 MiB of RSS
// where 540 were live. Twice a minute this looks at the heap; while the server is quiet it has the garbage found
// (a background collection, which runs beside the server) and, if a collection left much free space, compacts the heap
// once and hands that space back. Under load it does nothing: a compaction's pause (2-3 s with a million hosts on
// the bench's VM) would be in the way, and the GC's own collections keep up there.
internal sealed partial class HeapUpkeep(TimeProvider time, ILogger<HeapUpkeep> logger) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, time);
        var policy = new HeapPolicy(HeapSample.Take());
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var now = HeapSample.Take();
            switch (policy.Next(now))
            {
                case HeapAction.Collect:
                    GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: false);
                    policy.Collected(HeapSample.Take());
                    break;
                case HeapAction.Compact:
                    var started = Stopwatch.GetTimestamp();
                    GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                    var took = Stopwatch.GetElapsedTime(started);
                    var after = HeapSample.Take();
                    policy.Compacted(after);
                    LogCompacted(logger, now.FreeAfterFull >> 20, after.LiveAfterFull >> 20, took.TotalSeconds);
                    break;
            }
        }
    }

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "The server is quiet: compacted its heap, handing back {Free} MiB of free space ({Live} MiB live) in {Seconds:0.00} s")]
    private static partial void LogCompacted(ILogger logger, long free, long live, double seconds);
}

// What the GC has seen so far: all bytes ever allocated, the full collections, and what was live and what was free space
// in the heap after the latest of them.
internal readonly record struct HeapSample(long Allocated, int FullCollections, long LiveAfterFull, long FreeAfterFull)
{
    public static HeapSample Take()
    {
        var blocking = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        var background = GC.GetGCMemoryInfo(GCKind.Background);
        var last = background.Index > blocking.Index ? background : blocking;
        return new(GC.GetTotalAllocatedBytes(precise: false), GC.CollectionCount(GC.MaxGeneration),
            last.HeapSizeBytes - last.FragmentedBytes, last.FragmentedBytes);
    }
}

internal enum HeapAction
{
    None,
    Collect,
    Compact,
}

// Decides from one sample a period: nothing under load; while quiet, a background collection once an eighth of what is
// live (at least a quiet period's worth) was allocated since the last full one, as that may have left garbage in the
// old generation; and a compaction once a collection other than our own compaction left free space of at least half
// what is live.
internal sealed class HeapPolicy(HeapSample first)
{
    // Quiet: at most this much allocated in a period, half a MiB a second (a few hundred beats' worth).
    public const long QuietAllocation = 16 << 20;

    // Never compacted for less: a small server's few MiB of free space are not worth a pause.
    public const long LeastFree = 64 << 20;

    private HeapSample _last = first;
    private long _allocatedAtFull = first.Allocated;
    private int _compactedAt = -1;

    public HeapAction Next(HeapSample now)
    {
        var quiet = now.Allocated - _last.Allocated <= QuietAllocation;
        if (now.FullCollections != _last.FullCollections)
        {
            _allocatedAtFull = now.Allocated; // the GC ran one of its own in the period
        }

        _last = now;
        if (!quiet)
        {
            return HeapAction.None;
        }

        if (now.FullCollections != _compactedAt && now.FreeAfterFull >= Math.Max(LeastFree, now.LiveAfterFull / 2))
        {
            return HeapAction.Compact;
        }

        var enough = Math.Max(QuietAllocation, now.LiveAfterFull / 8);
        return now.Allocated - _allocatedAtFull >= enough ? HeapAction.Collect : HeapAction.None;
    }

    public void Collected(HeapSample after)
    {
        _last = after;
        _allocatedAtFull = after.Allocated;
    }

    public void Compacted(HeapSample after)
    {
        Collected(after);
        _compactedAt = after.FullCollections;
    }
}
