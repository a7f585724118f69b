using Heartbeat.Server.Hosting;

namespace Heartbeat.Server.Tests;

/// <summary>What a server does about its heap once it is quiet: find the garbage, and hand back much free space once.</summary>
public sealed class HeapUpkeepTests
{
    private const long MiB = 1 << 20;

    // A million hosts' server in a storm: 40 GiB allocated so far, 45 full collections, 740 MiB live at the last.
    private static readonly HeapSample Storm = new(Allocated: 40_000 * MiB, FullCollections: 45, LiveAfterFull: 740 * MiB, FreeAfterFull: 30 * MiB);

    [Fact]
    public void AServerTakingBeatsIsLeftToTheGc()
    {
        var policy = new HeapPolicy(Storm);
        var sample = Storm;
        for (var period = 0; period < 20; period++)
        {
            sample = sample with { Allocated = sample.Allocated + (200 * MiB), FreeAfterFull = 400 * MiB };
            Assert.Equal(HeapAction.None, policy.Next(sample));
        }
    }

    [Fact]
    public void AfterAStormTheQuietServerFindsItsGarbageAndThenCompactsOnce()
    {
        var policy = new HeapPolicy(Storm);
        var stormEnds = Storm with { Allocated = Storm.Allocated + (2_000 * MiB) };
        Assert.Equal(HeapAction.None, policy.Next(stormEnds));

        var quiet = stormEnds with { Allocated = stormEnds.Allocated + (5 * MiB) };
        Assert.Equal(HeapAction.Collect, policy.Next(quiet)); // 2 GiB allocated since the last full collection
        var collected = quiet with { FullCollections = 46 };
        policy.Collected(collected);

        // The background collection found the storm's listings dead: 380 MiB free among 570 live.
        var found = collected with { Allocated = collected.Allocated + MiB, LiveAfterFull = 570 * MiB, FreeAfterFull = 380 * MiB };
        Assert.Equal(HeapAction.Compact, policy.Next(found));
        var compacted = found with { FullCollections = 47, FreeAfterFull = 2 * MiB };
        policy.Compacted(compacted);

        var idle = compacted;
        for (var period = 0; period < 10; period++)
        {
            idle = idle with { Allocated = idle.Allocated + MiB };
            Assert.Equal(HeapAction.None, policy.Next(idle));
        }
    }

    [Fact]
    public void ACompactionThatCouldNotHandBackTheSpaceIsNotRepeatedUntilAnotherCollectionFindsSome()
    {
        var policy = new HeapPolicy(Storm);
        var found = Storm with { Allocated = Storm.Allocated + MiB, LiveAfterFull = 570 * MiB, FreeAfterFull = 380 * MiB };
        Assert.Equal(HeapAction.Compact, policy.Next(found));
        var stuck = found with { FullCollections = 46, FreeAfterFull = 300 * MiB }; // say, pinned objects in the way
        policy.Compacted(stuck);

        Assert.Equal(HeapAction.None, policy.Next(stuck with { Allocated = stuck.Allocated + MiB }));
        Assert.Equal(HeapAction.Compact, policy.Next(stuck with { Allocated = stuck.Allocated + (2 * MiB), FullCollections = 47 }));
    }

    [Fact]
    public void FreeSpaceOfLessThanHalfOfWhatIsLiveIsKept()
    {
        var policy = new HeapPolicy(Storm);
        var quiet = Storm with { Allocated = Storm.Allocated + MiB, FreeAfterFull = 300 * MiB };
        Assert.Equal(HeapAction.None, policy.Next(quiet));
        Assert.Equal(HeapAction.Compact, policy.Next(quiet with { FullCollections = 46, FreeAfterFull = 370 * MiB }));
    }

    [Fact]
    public void ASmallServerTricklingBeatsIsCollectedInTheBackgroundButNeverPausedForItsFewMebibytes()
    {
        var sample = new HeapSample(Allocated: 900 * MiB, FullCollections: 3, LiveAfterFull: 10 * MiB, FreeAfterFull: 20 * MiB);
        var policy = new HeapPolicy(sample);
        var actions = new List<HeapAction>();
        for (var period = 0; period < 12; period++)
        {
            sample = sample with { Allocated = sample.Allocated + (4 * MiB) };
            actions.Add(policy.Next(sample));
            if (actions[^1] == HeapAction.Collect)
            {
                sample = sample with { FullCollections = sample.FullCollections + 1 };
                policy.Collected(sample);
            }
        }

        // One background collection per 16 MiB allocated: every fourth period.
        Assert.Equal(Enumerable.Range(0, 12).Select(p => p % 4 == 3 ? HeapAction.Collect : HeapAction.None), actions);
    }

    [Fact]
    public void AQuietLargeServerIsCollectedOncePerEighthOfWhatIsLiveAllocated()
    {
        var policy = new HeapPolicy(Storm with { FreeAfterFull = 0 });
        var sample = Storm with { FreeAfterFull = 0 };
        var collections = 0;
        for (var period = 0; period < 37; period++)
        {
            sample = sample with { Allocated = sample.Allocated + (10 * MiB) };
            if (policy.Next(sample) == HeapAction.Collect)
            {
                collections++;
                sample = sample with { FullCollections = sample.FullCollections + 1 };
                policy.Collected(sample);
            }
        }

        Assert.Equal(3, collections); // 370 MiB allocated: one each time another 92.5 (740 / 8) came
    }

    [Fact]
    public void ASampleCountsWhatThisProcessAllocated()
    {
        var before = HeapSample.Take();
        var kept = new byte[32 * MiB];
        var after = HeapSample.Take();

        Assert.InRange(after.Allocated - before.Allocated, kept.Length, long.MaxValue);
        GC.KeepAlive(kept);
    }
}
