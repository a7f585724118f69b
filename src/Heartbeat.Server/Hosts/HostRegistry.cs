using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
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
internal sealed class HostRegistry(TimeProvider time, HostsOptions options, HostEventFeed feed) : IHostLedger
{
    private static readonly TimeSpan DuplicateReminder = TimeSpan.FromDays(1);

    private readonly ConcurrentDictionary<string, TrackedHost> _hosts = new(StringComparer.Ordinal);
    private readonly PriorityQueue<TrackedHost, DateTimeOffset> _deadlines = new();
    private readonly Lock _deadlinesGate = new();

    // Write-behind: what the store has yet to receive, drained by the store flusher.
    private readonly ConcurrentQueue<TrackedHost> _dirty = new();
    private readonly ConcurrentQueue<HostEvent> _events = new();
    private readonly ConcurrentQueue<AddressChange> _addressChanges = new();
    private readonly ConcurrentQueue<string> _forgotten = new();

    // Held alerts that a site review let go: routed to the notifiers without being stored again.
    private readonly ConcurrentQueue<HostEvent> _released = new();
    private readonly SiteOutages _sites = new(options.OutageWindow);
    private long _lastEventId;

    public int Count => _hosts.Count;

    /// <summary>The identity rule of PRODUCT.md: the host's name, else its reported IP, else its peer address.</summary>
    public static string IdentityOf(ReceivedHeartbeat heartbeat, string peer) => heartbeat.Host ?? heartbeat.Ip ?? peer;

    /// <summary>
    /// Loads what the store kept. After a restart (<paramref name="afterRestart"/>) hosts get a full interval (plus grace)
    /// from now before they can be judged down; otherwise (the fleet store's working copies) they are judged as they stand.
    /// </summary>
    public void Restore(IEnumerable<HostSnapshot> hosts, long lastEventId, bool afterRestart = true)
    {
        var now = afterRestart ? time.GetUtcNow() : DateTimeOffset.MinValue;
        _lastEventId = lastEventId;
        foreach (var stored in hosts)
        {
            var host = new TrackedHost(stored.Id) { NotBefore = now };
            host.Load(stored);
            _hosts[host.Id] = host;
            UpdateSite(host);
            if (host.State != HostState.Down)
            {
                lock (host)
                {
                    Schedule(host, Deadline(host));
                }
            }
        }
    }

    public IReadOnlyList<HostEvent> RecordBeat(ReceivedHeartbeat heartbeat, string peer) => RecordBeat(heartbeat, peer, time.GetUtcNow(), replayed: false);

    /// <summary>
    /// A beat another server received at <paramref name="at"/>, replayed onto the fleet's hosts. One older than the host's
    /// last beat (it reached a server whose flush came later) only counts: last seen never moves backwards.
    /// </summary>
    public IReadOnlyList<HostEvent> Replay(ReceivedHeartbeat heartbeat, string peer, DateTimeOffset at) => RecordBeat(heartbeat, peer, at, replayed: true);

    private List<HostEvent> RecordBeat(ReceivedHeartbeat heartbeat, string peer, DateTimeOffset now, bool replayed)
    {
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

                if (replayed && host.Beats > 0 && now < host.LastSeen)
                {
                    host.Beats++;
                    MarkDirty(host);
                    return events;
                }

                Apply(host, heartbeat, peer, now, events);
                MarkDirty(host);
                Reschedule(host);
            }

            return events;
        }
    }

    /// <summary>
    /// Starts a maintenance window for a known host (a zero window ends one): its alerts pause until then, and if it
    /// is silent when the window ends, it is down then. Returns the events it caused, or null for an unknown host.
    /// </summary>
    public IReadOnlyList<HostEvent>? SetMaintenance(string id, TimeSpan window) =>
        Update(id, (host, now, events) => SetMaintenance(host, window, now, events));

    /// <summary>A job behind a known host says it started (/ping/{host}/start); its next beat tells how long it ran. False for an unknown host.</summary>
    public bool RecordStart(string id, PingBody? body) => Update(id, (host, now, _) =>
    {
        host.StartedAt = now;
        host.LastBody = body ?? host.LastBody;
    }) is not null;

    /// <summary>Keeps a ping body (/ping/{host}/log) without counting it as a beat. False for an unknown host.</summary>
    public bool RecordLog(string id, PingBody body) => Update(id, (host, _, _) => host.LastBody = body) is not null;

    Task<IReadOnlyList<HostEvent>?> IHostLedger.SetMaintenanceAsync(string id, TimeSpan window) => Task.FromResult(SetMaintenance(id, window));

    Task<bool> IHostLedger.RecordStartAsync(string id, PingBody? body) => Task.FromResult(RecordStart(id, body));

    Task<bool> IHostLedger.RecordLogAsync(string id, PingBody body) => Task.FromResult(RecordLog(id, body));

    Task<bool> IHostLedger.ForgetAsync(string id) => Task.FromResult(Forget(id));

    /// <summary>
    /// Takes hosts as the fleet store has them, replacing what this server knew: the registry of a fleet server is a
    /// copy of the shared store, kept current after every flush. Raises nothing; the store decided the events.
    /// </summary>
    public void Adopt(IEnumerable<HostSnapshot> hosts, IEnumerable<string> forgotten)
    {
        foreach (var id in forgotten)
        {
            _hosts.TryRemove(id, out _);
        }

        foreach (var stored in hosts)
        {
            var host = _hosts.GetOrAdd(stored.Id, static id => new TrackedHost(id));
            lock (host)
            {
                host.Load(stored);
            }
        }
    }

    private List<HostEvent>? Update(string id, Action<TrackedHost, DateTimeOffset, List<HostEvent>> change)
    {
        if (!_hosts.TryGetValue(id, out var host))
        {
            return null;
        }

        var events = new List<HostEvent>(1);
        lock (host)
        {
            if (!host.Live)
            {
                return null;
            }

            change(host, time.GetUtcNow(), events);
            MarkDirty(host);
            Reschedule(host);
        }

        return events;
    }

    /// <summary>
    /// A later deadline is picked up when the queued one comes due; only an earlier one (a shorter declared
    /// interval, say, or the end of a maintenance window) needs an entry of its own.
    /// </summary>
    private void Reschedule(TrackedHost host)
    {
        var deadline = Deadline(host);
        if (host.State != HostState.Down && (host.ScheduledAt is not { } scheduled || deadline < scheduled))
        {
            Schedule(host, deadline);
        }
    }

    /// <summary>Moves every host whose deadline has passed to late or down, and decides on held site alerts; returns the events.</summary>
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
                var pastDown = now >= host.DownAt(expected, options.MissesBeforeDown);
                if (pastDown && !host.InMaintenance(now))
                {
                    var previous = host.State;
                    SetState(host, HostState.Down, now);
                    var held = _sites.ShouldHoldDown(host.Site);
                    var down = Raise(host, HostEventKind.Down, now, previousIp: null, DescribeDown(host, expected, previous), held);
                    if (held)
                    {
                        _sites.HoldDown(host.Site!, down, now);
                    }

                    events.Add(down);
                    MarkDirty(host);
                    continue;
                }

                if (pastDown && host.State != HostState.Maintenance)
                {
                    // Silent past its deadline, inside a maintenance window: down only if still silent when it ends.
                    SetState(host, HostState.Maintenance, now);
                    MarkDirty(host);
                }
                else if (host.State == HostState.Up && now >= host.LateAt(expected))
                {
                    SetState(host, HostState.Late, now);
                    MarkDirty(host);
                }

                Schedule(host, Deadline(host));
            }
        }

        foreach (var decision in _sites.Review(now))
        {
            foreach (var e in decision.Release)
            {
                _released.Enqueue(e);
            }

            if (decision.Change != SiteChange.None)
            {
                events.Add(RaiseSite(decision, now));
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
            return host.Snapshot(options);
        }
    }

    public List<HostSnapshot> List()
    {
        var snapshots = new List<HostSnapshot>(_hosts.Count);
        foreach (var host in _hosts.Values)
        {
            lock (host)
            {
                snapshots.Add(host.Snapshot(options));
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
            _sites.Move(host, host.Site, null);
        }

        _forgotten.Enqueue(id);
        return true;
    }

    /// <summary>Everything that changed since the last call, each host once in its latest state.</summary>
    public HostChanges DrainChanges()
    {
        // Released alerts first: they belong to events stored earlier than any drained below.
        var released = DrainQueue(_released);
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
                    hosts.Add(StoredSnapshot(host));
                }
            }
        }

        return new HostChanges(hosts, events, addressChanges, forgotten) { Released = released };
    }

    /// <summary>
    /// The host as the store keeps it: as it stands, plus when the sweeper must look at it next (none once it is down)
    /// and the gaps it learns its interval from, which only another server (a fleet's) needs; lists of every host skip them.
    /// </summary>
    private HostSnapshot StoredSnapshot(TrackedHost host) => host.Snapshot(options) with
    {
        DueAt = host.State == HostState.Down ? null : Deadline(host),
        RecentGaps = host.Gaps.Samples(),
    };

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
            host.LearnedInterval = host.Gaps.Estimate ?? host.LearnedInterval;
            RecordAddressChange(host, AddressKind.Reported, host.ReportedIp, heartbeat.Ip, now);
            RecordAddressChange(host, AddressKind.Peer, host.Peer, peer, now);
        }

        var placeChanged = isNew || host.ReportedIp != heartbeat.Ip || host.Peer != peer || host.Group != heartbeat.Group;
        host.ReportedIp = heartbeat.Ip;
        host.Peer = peer;
        host.Group = heartbeat.Group;
        host.LastSeen = now;
        host.PauseCredit = TimeSpan.Zero;
        host.Beats++;
        host.Message = heartbeat.Message;
        host.ClientStatus = heartbeat.Status;
        host.DeclaredInterval = heartbeat.Interval;
        host.DeclaredMisses = heartbeat.MissesBeforeDown;
        if (heartbeat.Body is not null)
        {
            host.LastBody = new PingBody(now, heartbeat.Status == HeartbeatStatus.Fail ? "fail" : "success", heartbeat.Body);
        }

        if (host.StartedAt is { } started)
        {
            host.LastRunTime = now - started;
            host.StartedAt = null;
        }

        if (placeChanged)
        {
            UpdateSite(host);
        }

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
        }
        else
        {
            if (previousIp != ip)
            {
                host.IpChanges++;
                events.Add(Raise(host, HostEventKind.IpChanged, now, previousIp, $"Host IP changed - {host.Id} ({previousIp} -> {ip})"));
            }

            ApplyState(host, previousState, state, now, events);
        }

        TrackBoot(host, heartbeat.BootId, now, events);
        TrackClock(host, heartbeat.ClientTime, now, events);
        if (heartbeat.Maintenance is { } window)
        {
            SetMaintenance(host, window, now, events);
        }
    }

    private void ApplyState(TrackedHost host, HostState previous, HostState state, DateTimeOffset now, List<HostEvent> events)
    {
        if (host.Site is { } site)
        {
            foreach (var e in _sites.Heard(site))
            {
                _released.Enqueue(e);
            }
        }

        if (state == previous)
        {
            return;
        }

        // Late to up is no news; back from down (or a maintenance silence), or from failing to up, is a recovery;
        // into failing is its own event.
        var since = host.StateSince;
        SetState(host, state, now);
        if (previous is HostState.Down or HostState.Maintenance || (previous == HostState.Failing && state == HostState.Up))
        {
            var held = previous == HostState.Down && _sites.IsDown(host.Site);
            if (held)
            {
                _sites.HoldRecovery(host.Site!, now);
            }

            events.Add(Raise(host, HostEventKind.Recovered, now, null, $"Host recovered - {host.Id} ({Describe(previous)} for {Durations.Format(now - since)})", held));
        }

        if (state == HostState.Failing)
        {
            events.Add(RaiseFailing(host, now));
        }
    }

    /// <summary>A new boot id is a reboot; the one before it coming back means two machines beat under one name.</summary>
    private void TrackBoot(TrackedHost host, string? bootId, DateTimeOffset now, List<HostEvent> events)
    {
        if (bootId is null || bootId == host.BootId)
        {
            return;
        }

        var current = host.BootId;
        var alternating = bootId == host.PreviousBootId;
        host.PreviousBootId = current;
        host.BootId = bootId;
        if (current is null)
        {
            return; // the first boot id the host sent
        }

        if (!alternating)
        {
            events.Add(Raise(host, HostEventKind.Rebooted, now, null, $"Host rebooted - {host.Id} (boot {Short(current)} -> {Short(bootId)})"));
            return;
        }

        // Said once, then again only as a daily reminder while the two machines keep at it.
        var remindAt = host.DuplicateSeenAt + DuplicateReminder;
        host.DuplicateSeenAt = now;
        if (remindAt is null || now >= remindAt)
        {
            events.Add(Raise(host, HostEventKind.DuplicateIdentity, now, null,
                $"Duplicate identity - {host.Id} (beats alternate between boots {Short(current)} and {Short(bootId)}: two machines use this name)"));
        }
    }

    private void TrackClock(TrackedHost host, DateTimeOffset? clientTime, DateTimeOffset now, List<HostEvent> events)
    {
        if (clientTime is not { } sent)
        {
            return;
        }

        var wasOff = host.ClockSkew?.Duration() > options.ClockSkewWarning;
        var skew = sent - now;
        host.ClockSkew = skew;
        if (!wasOff && skew.Duration() > options.ClockSkewWarning)
        {
            var direction = skew > TimeSpan.Zero ? "ahead of" : "behind";
            events.Add(Raise(host, HostEventKind.ClockSkew, now, null, $"Clock skew - {host.Id} (its clock is {Durations.Format(skew)} {direction} the server's)"));
        }
    }

    private void SetMaintenance(TrackedHost host, TimeSpan window, DateTimeOffset now, List<HostEvent> events)
    {
        if (window <= TimeSpan.Zero)
        {
            var wasIn = host.InMaintenance(now);
            host.MaintenanceUntil = null;
            if (wasIn)
            {
                events.Add(Raise(host, HostEventKind.Maintenance, now, null, $"Maintenance over - {host.Id} (ended early)"));
            }

            return;
        }

        var until = now + window;
        host.MaintenanceUntil = until;
        events.Add(Raise(host, HostEventKind.Maintenance, now, null, $"Maintenance - {host.Id} (alerts paused for {Durations.Format(window)}, until {LocalTime(until)})"));
    }

    private void UpdateSite(TrackedHost host)
    {
        if (!options.CorrelateSites)
        {
            return;
        }

        var site = SiteOutages.SiteOf(host.Group, host.ReportedIp, host.Peer, options.SiteRules);
        if (site != host.Site)
        {
            _sites.Move(host, host.Site, site);
            host.Site = site;
        }
    }

    private HostEvent RaiseSite(SiteDecision decision, DateTimeOffset now)
    {
        const int Named = 10;
        var names = decision.Members.Select(m => m.Id).Order(StringComparer.Ordinal).ToList();
        var listed = string.Join(", ", names.Take(Named)) + (names.Count > Named ? Invariant($" and {names.Count - Named} more") : string.Empty);
        var back = decision.Members.Count(m => !SiteOutages.IsSilent(m));
        var (kind, state, summary) = decision.Change == SiteChange.Down
            ? (HostEventKind.SiteDown, HostState.Down, Invariant($"Site down - {decision.Site} ({names.Count} hosts silent: {listed})"))
            : (HostEventKind.SiteRecovered, HostState.Up, Invariant($"Site recovered - {decision.Site} ({back} of {names.Count} hosts back after {Durations.Format(decision.DownFor)})"));
        var ip = IPAddress.TryParse(decision.Site, out _) ? decision.Site : "-";
        var lastSeen = decision.Members.Count > 0 ? decision.Members.Max(m => m.LastSeen) : now;
        return Publish(new HostEvent(Interlocked.Increment(ref _lastEventId), now, decision.Site, kind, state, ip, null, lastSeen, TimeSpan.Zero, summary));
    }

    private static string Short(string bootId) => bootId.Length > 8 ? bootId[..8] : bootId;

    private string LocalTime(DateTimeOffset at) =>
        TimeZoneInfo.ConvertTime(at, time.LocalTimeZone).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

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

    /// <summary>Creates an event of a host; in a maintenance window it alerts nobody (but the window's own events do).</summary>
    private HostEvent Raise(TrackedHost host, HostEventKind kind, DateTimeOffset now, string? previousIp, string summary, bool held = false) =>
        Publish(new HostEvent(
            Interlocked.Increment(ref _lastEventId), now, host.Id, kind, host.State, host.ReportedIp ?? host.Peer, previousIp,
            host.LastSeen, host.Expected(options.DefaultInterval).Interval, summary)
        {
            Silenced = kind != HostEventKind.Maintenance && host.InMaintenance(now),
            Held = held,
        });

    /// <summary>Hands an event to live subscribers and queues it for the store.</summary>
    private HostEvent Publish(HostEvent e)
    {
        feed.Publish(e);
        _events.Enqueue(e);
        return e;
    }

    private string DescribeDown(TrackedHost host, TimeSpan expected, HostState previous)
    {
        var misses = host.DeclaredMisses ?? options.MissesBeforeDown;
        var missed = misses > 1 ? Invariant($", {misses} beats missed") : string.Empty;
        var why = previous switch
        {
            HostState.Failing => ", was failing",
            HostState.Maintenance => ", not back when its maintenance ended",
            _ => string.Empty,
        };
        return $"Host down - {host.Id} (last seen {LocalTime(host.LastSeen)}, expected every {Durations.Format(expected)}{missed}{why})";
    }

    private static string Describe(HostState state) => state switch
    {
        HostState.Down => "down",
        HostState.Maintenance => "silent in maintenance",
        HostState.Failing => "failing",
        HostState.Late => "late",
        _ => "up",
    };

    /// <summary>The next moment the sweeper must look at the host: when it turns late, or down.</summary>
    private DateTimeOffset Deadline(TrackedHost host)
    {
        var (expected, _) = host.Expected(options.DefaultInterval);
        var due = host.State switch
        {
            HostState.Up => host.LateAt(expected),
            HostState.Maintenance when host.MaintenanceUntil is { } until => until,
            _ => host.DownAt(expected, options.MissesBeforeDown),
        };
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

    /// <summary>Events stored earlier whose held alerts are now to go out (see <see cref="SiteOutages"/>).</summary>
    public IReadOnlyList<HostEvent> Released { get; init; } = [];

    public bool IsEmpty => Hosts.Count == 0 && Events.Count == 0 && AddressChanges.Count == 0 && Forgotten.Count == 0 && Notifications.Count == 0;
}
