using System.Diagnostics;
using System.Globalization;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Storage;

namespace Heartbeat.Benchmarks;

// One write-behind flush to a SQLite file at scale, every host changed since the last: hosts that send no body, hosts
// whose ping body is the same as last time (the usual cron job: "OK", or the same report), hosts whose body is new
// in every flush (the worst case, and what every flush with bodies cost before bodies were written only on change),
// and hosts that moved to a new IP since the last flush (an event and an address change each, with the pruning of
// their history). The kinds take turns, round after round, on the same file.
internal static class FlushBench
{
    private static readonly DateTimeOffset Start = new(2026, 2, 8, 11, 30, 0, TimeSpan.Zero);

    public static async Task RunAsync(int hosts, int bodyBytes, int rounds)
    {
        using var directory = new TempFolder();
        await using var store = SqliteHostStore.OpenFile(Path.Combine(directory.Path, "heartbeat.db"));
        await store.LoadAsync(CancellationToken.None);
        var records = Enumerable.Range(0, hosts).Select(i => new HostRecord(Invariant($"host-{i}")) { Peer = "10.0.0.1", FirstSeen = Start }).ToList();
        var body = new string('x', bodyBytes);
        foreach (var host in records)
        {
            host.LastBody = new PingBody(Start, "success", body);
        }

        await store.WriteAsync(new HostChanges(records, [], [], []), [], CancellationToken.None);
        var all = records.Select(h => h.Id).ToHashSet(StringComparer.Ordinal);
        var kinds = new (string Name, Func<int, HostChanges> Batch)[]
        {
            ("no body", round => Batch(records, round, host => host.LastBody = null, sameBodies: all)),
            ("same body each time", round => Batch(records, round, host => host.LastBody = new PingBody(Start.AddMinutes(round), "success", body), sameBodies: all)),
            ("new body each time", round => Batch(records, round, host => host.LastBody = new PingBody(Start.AddMinutes(round), "success", Changed(body, round)), sameBodies: new HashSet<string>())),
            ("no body, a new IP each time", round => Moved(Batch(records, round, host => host.LastBody = null, sameBodies: all), round)),
        };

        var times = kinds.ToDictionary(k => k.Name, _ => new List<double>());
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var (name, batch) in kinds)
            {
                var changes = batch(round);
                var started = Stopwatch.GetTimestamp();
                await store.WriteAsync(changes, [], CancellationToken.None);
                times[name].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }

        Console.WriteLine(Invariant($"One flush of {hosts:N0} changed hosts to SQLite, {bodyBytes:N0}-byte bodies, {rounds} interleaved rounds"));
        Console.WriteLine("| hosts' ping bodies | median | min | max |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var (name, values) in times)
        {
            values.Sort();
            Console.WriteLine(Invariant($"| {name} | {values[values.Count / 2]:F0} ms | {values[0]:F0} ms | {values[^1]:F0} ms |"));
        }
    }

    private static HostChanges Batch(List<HostRecord> records, int round, Action<HostRecord> setBody, IReadOnlySet<string> sameBodies)
    {
        foreach (var host in records)
        {
            host.Beats++;
            host.LastSeen = Start.AddMinutes(round);
            setBody(host);
        }

        return new HostChanges(records, [], [], []) { SameBodies = sameBodies };
    }

    // Each host's IP changed once since the last flush: its event and its address change, as a beat records them.
    private static HostChanges Moved(HostChanges changes, int round)
    {
        var at = Start.AddMinutes(round);
        var (previous, current) = (Invariant($"10.1.{round % 250}.1"), Invariant($"10.1.{(round + 1) % 250}.1"));
        return changes with
        {
            Events = [.. changes.Hosts.Select((host, i) => new HostEvent(at, host.Id, HostEventKind.IpChanged, HostState.Up, current, previous, at, TimeSpan.FromMinutes(1),
                Invariant($"Host IP changed - {host.Id} ({previous} -> {current})")) { Id = ((long)round * changes.Hosts.Count) + i })],
            AddressChanges = [.. changes.Hosts.Select(host => new AddressChange(at, host.Id, AddressKind.Reported, previous, current))],
        };
    }

    private static string Changed(string body, int round) => string.Create(CultureInfo.InvariantCulture, $"{round:D6}{body[6..]}");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private sealed class TempFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("heartbeat-flush-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
