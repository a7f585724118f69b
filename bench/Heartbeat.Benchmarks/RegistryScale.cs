using System.Diagnostics;
using System.Globalization;
using Heartbeat.Server.Hosts;

namespace Heartbeat.Benchmarks;

/// <summary>
/// The host registry at fleet scale: memory per host, time to register, and how long the sweeper takes
/// when nothing is due, when every host turns late, and when every host goes down in the same instant
/// (the worst case: a whole fleet behind one cut cable).
/// </summary>
internal static class RegistryScale
{
    public static async Task RunAsync(int hosts)
    {
        var time = new ManualTime(new DateTimeOffset(2026, 2, 8, 11, 30, 0, TimeSpan.Zero));
        var interval = TimeSpan.FromSeconds(60);
        var beats = Enumerable.Range(0, hosts)
            .Select(i => new ReceivedHeartbeat(Invariant($"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"), Invariant($"host-{i}"), interval))
            .ToArray();
        var before = Heap();

        await using var server = new BenchRegistry(time);
        var registry = server.Registry;
        var register = Stopwatch.StartNew();
        foreach (var beat in beats)
        {
            _ = registry.RecordBeatAsync(beat, "192.0.2.1");
        }

        register.Stop();
        server.Changes.Drain(); // the store flusher does this every 250 ms
        var after = Heap();
        if (registry.Count != hosts)
        {
            throw new InvalidOperationException($"Expected {hosts} hosts, found {registry.Count}.");
        }

        // Second round of beats: the steady state, where every beat is for a known host.
        time.Advance(TimeSpan.FromSeconds(30));
        var steady = Stopwatch.StartNew();
        foreach (var beat in beats)
        {
            _ = registry.RecordBeatAsync(beat, "192.0.2.1");
        }

        steady.Stop();
        server.Changes.Drain();

        // A fleet server's sweep takes its candidates from its copy of the fleet: a walk over every host.
        var candidates = Stopwatch.StartNew();
        var due = registry.DueBy(time.GetUtcNow(), 10_000).Count;
        candidates.Stop();

        time.Advance(TimeSpan.FromSeconds(29));
        var (idle, idleEvents) = await MeasureAsync(server);
        time.Advance(TimeSpan.FromSeconds(32));
        var (late, lateEvents) = await MeasureAsync(server);
        time.Advance(TimeSpan.FromSeconds(30));
        var (down, downEvents) = await MeasureAsync(server);
        if (idleEvents != 0 || lateEvents != 0 || downEvents != hosts)
        {
            throw new InvalidOperationException($"Unexpected events: {idleEvents} idle, {lateEvents} late, {downEvents} down.");
        }

        Console.WriteLine(Invariant($"hosts:                         {hosts:N0}"));
        Console.WriteLine(Invariant($"managed heap per host:         {(after - before) / (double)hosts:N0} bytes of records and queue, plus {StringBytes(beats) / (double)hosts:N0} bytes for its name and IP strings"));
        Console.WriteLine(Invariant($"first beat (new host):         {register.Elapsed.TotalNanoseconds / hosts:N0} ns per beat"));
        Console.WriteLine(Invariant($"beat of a known host:          {steady.Elapsed.TotalNanoseconds / hosts:N0} ns per beat"));
        Console.WriteLine(Invariant($"sweep, nobody due:             {idle.TotalMilliseconds:N3} ms"));
        Console.WriteLine(Invariant($"fleet sweep's candidates:      {candidates.Elapsed.TotalMilliseconds:N1} ms ({candidates.Elapsed.TotalNanoseconds / hosts:N1} ns per host, {due} due)"));
        Console.WriteLine(Invariant($"sweep, all {hosts:N0} turn late:   {late.TotalMilliseconds:N0} ms ({late.TotalNanoseconds / hosts:N0} ns per host)"));
        Console.WriteLine(Invariant($"sweep, all {hosts:N0} go down:     {down.TotalMilliseconds:N0} ms ({down.TotalNanoseconds / hosts:N0} ns per host)"));
    }

    /// <summary>
    /// One sweep, timed until its events are in the log; and how many host events it caused (the hosts share one peer
    /// address, so going down together they also make one site event).
    /// </summary>
    private static async Task<(TimeSpan Took, int Events)> MeasureAsync(BenchRegistry server)
    {
        var watch = Stopwatch.StartNew();
        await server.Registry.SweepAsync();
        watch.Stop();
        return (watch.Elapsed, server.Changes.Drain().Events.Count(e => e.Kind is not (HostEventKind.SiteDown or HostEventKind.SiteRecovered)));
    }

    private static long Heap()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    // The names and addresses were allocated before the measurement (the registry keeps the same
    // instances), so they are reported apart: a server parsing them from requests holds them too.
    private static long StringBytes(ReceivedHeartbeat[] beats) =>
        beats.Sum(b => 22L + (2L * b.Host!.Length) + 22L + (2L * b.Ip!.Length));

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private sealed class ManualTime(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;

        public override DateTimeOffset GetUtcNow() => _now;

        // Deadlines run on the monotonic clock: it moves with the wall clock here.
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _now.UtcTicks;

        public void Advance(TimeSpan by) => _now += by;
    }
}
