using System.Collections.Concurrent;
using System.Globalization;
using Heartbeat.Protocol;
using Heartbeat.Server.Ingest;

namespace Heartbeat.Server.Hosts;

/// <summary>
/// Every known host, its liveness, and the events its beats and silences cause. Beats update a host in
/// O(1) under that host's lock; deadlines live in a priority queue that only the sweeper touches in the
/// steady state (a beat just moves the host's deadline; the sweeper re-queues a host whose deadline moved
/// when the old one comes up), so a regular beat costs no queue operation and the sweeper costs O(log n)
/// per host per interval — never a scan of all hosts.
/// </summary>
internal sealed class HostRegistry(TimeProvider time, HostsOptions options, HostEventFeed feed)
{
    private readonly ConcurrentDictionary<string, TrackedHost> _hosts = new(StringComparer.Ordinal);
    private readonly PriorityQueue<TrackedHost, DateTimeOffset> _deadlines = new();
    private readonly Lock _deadlinesGate = new();

    // Write-behind: what the store has yet to receive, drained by the store flusher.
    private readonly ConcurrentQueue<TrackedHost> _dirty = new();
    private readonly ConcurrentQueue<HostEvent> _events = new();
    private readonly ConcurrentQueue<AddressChange> _addressChanges = new();
    private readonly ConcurrentQueue<string> _forgotten = new();
    private long _lastEventId;

    public int Count => _hosts.Count;

    /// <summary>The identity rule of PRODUCT.md: the host's name, else its reported IP, else its peer address.</summary>
    public static string IdentityOf(ReceivedHeartbeat heartbeat, string peer) => heartbeat.Host ?? heartbeat.Ip ?? peer;

    /// <summary>Loads what the store kept. Hosts get a full interval (plus grace) from now before they can be judged down.</summary>
    public void Restore(IEnumerable<HostSnapshot> hosts, long lastEventId)
    {
        var now = time.GetUtcNow();
        _lastEventId = lastEventId;
        foreach (var stored in hosts)
        {
            var host = new TrackedHost(stored.Id)
            {
                ReportedIp = stored.ReportedIp,
                Peer = stored.Peer,
                FirstSeen = stored.FirstSeen,
                LastSeen = stored.LastSeen,
                Beats = stored.Beats,
                Message = stored.Message,
                ClientStatus = stored.ClientStatus,
                DeclaredInterval = stored.DeclaredInterval,
                LearnedInterval = stored.LearnedInterval,
                State = stored.State,
                StateSince = stored.StateSince,
                IpChanges = stored.IpChanges,
                DeclaredMisses = stored.DeclaredMisses,
                NotBefore = now,
            };
            _hosts[host.Id] = host;
            if (host.State != HostState.Down)
            {
                lock (host)
                {
                    Schedule(host, Deadline(host));
                }
            }
        }
    }

    public IReadOnlyList<HostEvent> RecordBeat(ReceivedHeartbeat heartbeat, string peer)
    {
        var now = time.GetUtcNow();
        var id = IdentityOf(heartbeat, peer);
        var events = new List<HostEvent>(1);
        while (true)
        {
            var host = _hosts.GetOrAdd(id, static id => new TrackedHost(id));
            lock (host)
            {
                if (!host.Live)
                {
                    continue; // forgotten between lookup and lock: take the fresh record
                }

                Apply(host, heartbeat, peer, now, events);
                MarkDirty(host);

                // A later deadline is picked up when the queued one comes due; only an earlier one
                // (a shorter declared interval, say) needs an entry of its own.
                var deadline = Deadline(host);
                if (host.ScheduledAt is not { } scheduled || deadline < scheduled)
                {
                    Schedule(host, deadline);
                }
            }

            return events;
        }
    }

    /// <summary>Moves every host whose deadline has passed to late or down; returns the down events.</summary>
    public IReadOnlyList<HostEvent> Sweep()
    {
        var now = time.GetUtcNow();
        var events = new List<HostEvent>();
        while (NextDue(now) is var (host, due))
        {
            lock (host)
            {
                if (host.ScheduledAt != due)
                {
                    continue; // superseded by an earlier entry
                }

                host.ScheduledAt = null;
                if (!host.Live || host.State == HostState.Down)
                {
                    continue;
                }

                var (expected, _) = host.Expected(options.DefaultInterval);
                if (now >= host.DownAt(expected, options.MissesBeforeDown))
                {
                    var previous = host.State;
                    SetState(host, HostState.Down, now);
                    events.Add(Raise(host, HostEventKind.Down, now, previousIp: null, DescribeDown(host, expected, previous)));
                    MarkDirty(host);
                    continue;
                }

                if (host.State == HostState.Up && now >= host.LateAt(expected))
                {
                    SetState(host, HostState.Late, now);
                    MarkDirty(host);
                }

                Schedule(host, Deadline(host));
            }
        }

        return events;
    }

    /// <summary>
    /// The server stood still (a long GC or disk pause, a suspended VM) for <paramref name="pause"/>: nobody could
    /// reach it, so every deadline moves by that much. A host's queued deadline is now early; when it comes
    /// up, the sweeper sees the later one and queues that instead. O(hosts), but only after a pause.
    /// </summary>
    public void ExtendDeadlines(TimeSpan pause)
    {
        foreach (var host in _hosts.Values)
        {
            lock (host)
            {
                host.PauseCredit += pause;
            }
        }
    }

    public HostSnapshot? Find(string id)
    {
        if (!_hosts.TryGetValue(id, out var host))
        {
            return null;
        }

        lock (host)
        {
            return host.Snapshot(options.DefaultInterval);
        }
    }

    public List<HostSnapshot> List()
    {
        var snapshots = new List<HostSnapshot>(_hosts.Count);
        foreach (var host in _hosts.Values)
        {
            lock (host)
            {
                snapshots.Add(host.Snapshot(options.DefaultInterval));
            }
        }

        return snapshots;
    }

    public Dictionary<HostState, int> CountByState()
    {
        var counts = Enum.GetValues<HostState>().ToDictionary(s => s, _ => 0);
        foreach (var host in _hosts.Values)
        {
            counts[host.State]++; // read without the host's lock: a gauge may be a moment behind
        }

        return counts;
    }

    public bool Forget(string id)
    {
        if (!_hosts.TryRemove(id, out var host))
        {
            return false;
        }

        lock (host)
        {
            host.Live = false;
        }

        _forgotten.Enqueue(id);
        return true;
    }

    /// <summary>Everything that changed since the last call, each host once in its latest state.</summary>
    public HostChanges DrainChanges()
    {
        var forgotten = DrainQueue(_forgotten);
        var events = DrainQueue(_events);
        var addressChanges = DrainQueue(_addressChanges);
        var hosts = new List<HostSnapshot>();
        foreach (var host in DrainQueue(_dirty))
        {
            lock (host)
            {
                host.Dirty = false;
                if (host.Live)
                {
                    hosts.Add(host.Snapshot(options.DefaultInterval));
                }
            }
        }

        return new HostChanges(hosts, events, addressChanges, forgotten);
    }

    private static List<T> DrainQueue<T>(ConcurrentQueue<T> queue)
    {
        var items = new List<T>();
        while (queue.TryDequeue(out var item))
        {
            items.Add(item);
        }

        return items;
    }

    private void Apply(TrackedHost host, ReceivedHeartbeat heartbeat, string peer, DateTimeOffset now, List<HostEvent> events)
    {
        var isNew = host.Beats == 0;
        var previousIp = isNew ? null : host.ReportedIp ?? host.Peer;
        var previousState = host.State;
        if (isNew)
        {
            host.FirstSeen = now;
        }
        else
        {
            host.Gaps.Add(now - host.LastSeen);
            host.LearnedInterval = host.Gaps.Estimate;
            RecordAddressChange(host, AddressKind.Reported, host.ReportedIp, heartbeat.Ip, now);
            RecordAddressChange(host, AddressKind.Peer, host.Peer, peer, now);
        }

        host.ReportedIp = heartbeat.Ip;
        host.Peer = peer;
        host.LastSeen = now;
        host.PauseCredit = TimeSpan.Zero;
        host.Beats++;
        host.Message = heartbeat.Message;
        host.ClientStatus = heartbeat.Status;
        host.DeclaredInterval = heartbeat.Interval;
        host.DeclaredMisses = heartbeat.MissesBeforeDown;

        var ip = host.ReportedIp ?? host.Peer;
        var state = heartbeat.Status == HeartbeatStatus.Fail ? HostState.Failing : HostState.Up;
        if (isNew)
        {
            SetState(host, state, now);
            var expected = Durations.Format(host.Expected(options.DefaultInterval).Interval);
            events.Add(Raise(host, HostEventKind.New, now, null, Invariant($"New host - {host.Id} (IP {ip}, expected every {expected})")));
            if (state == HostState.Failing)
            {
                events.Add(RaiseFailing(host, now));
            }

            return;
        }

        if (previousIp != ip)
        {
            host.IpChanges++;
            events.Add(Raise(host, HostEventKind.IpChanged, now, previousIp, $"Host IP changed - {host.Id} ({previousIp} -> {ip})"));
        }

        if (state == previousState)
        {
            return;
        }

        // Late to up is no news; back from down, or from failing to up, is a recovery; into failing is its own event.
        var since = host.StateSince;
        SetState(host, state, now);
        if (previousState == HostState.Down || (previousState == HostState.Failing && state == HostState.Up))
        {
            events.Add(Raise(host, HostEventKind.Recovered, now, null, $"Host recovered - {host.Id} ({Describe(previousState)} for {Durations.Format(now - since)})"));
        }

        if (state == HostState.Failing)
        {
            events.Add(RaiseFailing(host, now));
        }
    }

    private HostEvent RaiseFailing(TrackedHost host, DateTimeOffset now) =>
        Raise(host, HostEventKind.Failing, now, null, host.Message is null ? $"Host failing - {host.Id}" : $"Host failing - {host.Id} ({host.Message})");

    private void RecordAddressChange(TrackedHost host, AddressKind kind, string? previous, string? current, DateTimeOffset now)
    {
        if (previous != current)
        {
            _addressChanges.Enqueue(new AddressChange(now, host.Id, kind, previous, current));
        }
    }

    private static void SetState(TrackedHost host, HostState state, DateTimeOffset now)
    {
        host.State = state;
        host.StateSince = now;
    }

    /// <summary>Creates an event, hands it to live subscribers and queues it for the store.</summary>
    private HostEvent Raise(TrackedHost host, HostEventKind kind, DateTimeOffset now, string? previousIp, string summary)
    {
        var e = new HostEvent(
            Interlocked.Increment(ref _lastEventId), now, host.Id, kind, host.State, host.ReportedIp ?? host.Peer, previousIp,
            host.LastSeen, host.Expected(options.DefaultInterval).Interval, summary);
        feed.Publish(e);
        _events.Enqueue(e);
        return e;
    }

    private string DescribeDown(TrackedHost host, TimeSpan expected, HostState previous)
    {
        var lastSeen = TimeZoneInfo.ConvertTime(host.LastSeen, time.LocalTimeZone).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        var misses = host.DeclaredMisses ?? options.MissesBeforeDown;
        var missed = misses > 1 ? Invariant($", {misses} beats missed") : string.Empty;
        var failing = previous == HostState.Failing ? ", was failing" : string.Empty;
        return $"Host down - {host.Id} (last seen {lastSeen}, expected every {Durations.Format(expected)}{missed}{failing})";
    }

    private static string Describe(HostState state) => state switch
    {
        HostState.Down => "down",
        HostState.Failing => "failing",
        HostState.Late => "late",
        _ => "up",
    };

    /// <summary>The next moment the sweeper must look at the host: when it turns late, or down.</summary>
    private DateTimeOffset Deadline(TrackedHost host)
    {
        var (expected, _) = host.Expected(options.DefaultInterval);
        var due = host.State == HostState.Up ? host.LateAt(expected) : host.DownAt(expected, options.MissesBeforeDown);
        return due > host.NotBefore ? due : host.NotBefore + expected + Liveness.Grace(expected);
    }

    private void Schedule(TrackedHost host, DateTimeOffset due)
    {
        host.ScheduledAt = due;
        lock (_deadlinesGate)
        {
            _deadlines.Enqueue(host, due);
        }
    }

    private (TrackedHost Host, DateTimeOffset Due)? NextDue(DateTimeOffset now)
    {
        lock (_deadlinesGate)
        {
            return _deadlines.TryPeek(out var host, out var due) && due <= now && _deadlines.TryDequeue(out _, out _) ? (host, due) : null;
        }
    }

    private void MarkDirty(TrackedHost host)
    {
        if (!host.Dirty)
        {
            host.Dirty = true;
            _dirty.Enqueue(host);
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>What the store has to write: hosts in their latest state, new events and address changes, and forgotten hosts.</summary>
/// <remarks><see cref="Notifications"/> are the events' notifications, added on the way to the store so both land in one transaction.</remarks>
internal sealed record HostChanges(
    IReadOnlyList<HostSnapshot> Hosts,
    IReadOnlyList<HostEvent> Events,
    IReadOnlyList<AddressChange> AddressChanges,
    IReadOnlyList<string> Forgotten)
{
    public IReadOnlyList<Notify.PendingNotification> Notifications { get; init; } = [];

    public bool IsEmpty => Hosts.Count == 0 && Events.Count == 0 && AddressChanges.Count == 0 && Forgotten.Count == 0 && Notifications.Count == 0;
}
