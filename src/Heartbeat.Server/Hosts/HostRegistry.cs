using System.Net;
using Heartbeat.Server.Logging;

namespace Heartbeat.Server.Hosts;

// Every known host of a lone server. A beat changes its host in O(1) under that host's lock, through the one state
// machine (HostTransitions); deadlines wait in a DeadlineQueue that only the sweeper
// works through; what changed goes to the ChangeQueue for the store, and every event to the
// HostEventSink. A fleet server keeps here only a copy of the shared store, for its page and API.
internal sealed partial class HostRegistry(HostClock clock, HostTransitions transitions, ChangeQueue changes, HostEventSink sink, PingBodies bodies) : IHostLedger
{
    private readonly HostMap _hosts = new();
    private readonly DeadlineQueue _deadlines = new();
    private readonly SiteOutages _sites = new(transitions.Options.OutageWindow);
    private readonly HostsOptions _options = transitions.Options;
    private volatile IReadOnlyList<SiteRule> _siteRules = transitions.Options.SiteRules;

    // On a fleet server: no host's copy is due before this (UTC ticks). A walk of DueBy sets it to the earliest deadline
    // it saw, each copy taken in since lowers it, and until then a sweep need not walk every host. Rounds take turns.
    private long _nothingDueBefore = long.MinValue;

    public int Count => _hosts.Count;

    public bool Knows(string id) => _hosts.Contains(id);

    // A lone server's changes wait for nothing but memory, which the host bounds keep.
    public string? WhyNotNow() => null;

    // The hosts in the order the page and the API list them, kept as states change.
    public HostIndex Index { get; } = new(clock);

    // The --group ranges of a configuration read again (SIGHUP): each host joins its site by them at its next beat.
    public void UseSiteRules(IReadOnlyList<SiteRule> rules) => _siteRules = rules;

    // The identity rule of PRODUCT.md: the host's name, else its reported IP, else its peer address.
    public static string IdentityOf(ReceivedHeartbeat heartbeat, string peer) => heartbeat.Host ?? heartbeat.Ip ?? peer;

    // Loads what the store kept after a restart: every host gets a full interval (plus grace) from now before it can be
    // judged down, so the server's own downtime is held against nobody.
    public void Restore(IReadOnlyList<HostRecord> hosts)
    {
        var now = clock.Read();
        var restored = new TrackedHost[hosts.Count]; // made on every core: 0.2 s on one with a million
        Parallel.For(0, hosts.Count, i => restored[i] = new TrackedHost(hosts[i]) { StoredBody = hosts[i].LastBody });

        // The index lists them on another core meanwhile (nobody else sees these hosts before the server listens), in
        // the store's order (by id), not the map's hash order: already in order within each state, so it need not sort.
        Parallel.Invoke(() => Index.UpdateAll(restored), () =>
        {
            _hosts.Restore(restored);
            foreach (var host in restored)
            {
                var record = host.Record;
                record.PlaceOnClock(now);
                record.NotBefore = now.Mono;
                bodies.Restored(record);
                lock (host)
                {
                    UpdateSite(host);
                    if (record.State != HostState.Down)
                    {
                        _deadlines.Schedule(host, transitions.Deadline(record));
                    }
                }
            }
        });
    }

    // Takes hosts as a fleet's store has them, replacing what this server knew: on a fleet server, this registry is a
    // copy of the shared store for its page and API, kept current after every round. Raises nothing; the store decided.
    public void Mirror(IEnumerable<HostRecord> hosts, IEnumerable<string> forgotten)
    {
        foreach (var id in forgotten)
        {
            if (_hosts.TryRemove(id, out var gone))
            {
                Index.Remove(gone);
            }
        }

        var mirrored = new List<TrackedHost>();
        foreach (var record in hosts)
        {
            if (record.DueAt is { } due)
            {
                _nothingDueBefore = Math.Min(_nothingDueBefore, due.UtcTicks);
            }

            // Nothing else changes a fleet server's registry, so the new copy takes over where the old one is listed.
            var host = new TrackedHost(record) { Listed = _hosts.TryGet(record.Id, out var old) ? old.Listed : null };
            _hosts.Put(host);
            mirrored.Add(host);
        }

        Index.UpdateAll(mirrored);
    }

    // On a fleet server: up to most hosts whose copy has a sweep look at them by then (the store's rows say which of
    // them still need it). A walk of a million hosts takes about 60 ms, so it is done only once one may be due.
    public List<string> DueBy(DateTimeOffset at, int most)
    {
        var due = new List<string>();
        if (at.UtcTicks < _nothingDueBefore)
        {
            return due;
        }

        var earliest = long.MaxValue;
        foreach (var host in _hosts.All)
        {
            if (host.Record.DueAt is not { } dueAt)
            {
                continue;
            }

            earliest = Math.Min(earliest, dueAt.UtcTicks);
            if (dueAt <= at)
            {
                due.Add(host.Record.Id);
                if (due.Count == most)
                {
                    break; // earliest is due already: the next sweep walks again
                }
            }
        }

        _nothingDueBefore = earliest;
        return due;
    }

    public Task RecordBeatAsync(ReceivedHeartbeat heartbeat, string peer)
    {
        var id = IdentityOf(heartbeat, peer);
        var outcome = new HostOutcome();
        while (true)
        {
            var host = _hosts.GetOrAdd(id);
            lock (host)
            {
                if (!host.Live)
                {
                    continue; // forgotten between lookup and lock: take the fresh record
                }

                var body = host.Record.LastBody;
                transitions.Beat(host.Record, heartbeat, peer, clock.Read(), outcome);
                bodies.Settle(host.Record, body);
                AfterBeat(host, outcome);
                Changed(host, outcome);
                return sink.PublishAsync(outcome.Events);
            }
        }
    }

    public Task<bool> SetMaintenanceAsync(string id, TimeSpan window) =>
        UpdateAsync(id, (host, now, outcome) => transitions.SetMaintenance(host, window, now, outcome));

    public Task<bool> RecordStartAsync(string id, PingBody? body) => UpdateAsync(id, (host, now, _) => HostTransitions.Start(host, body, now));

    public Task<bool> RecordLogAsync(string id, PingBody body) => UpdateAsync(id, (host, _, _) => HostTransitions.Log(host, body));

    public Task<bool> ConfigureAsync(string id, HostSettingsChange change) => UpdateAsync(id, (host, _, _) => HostTransitions.Configure(host, change));

    public async Task<bool> ExpectAsync(string id, HostSettingsChange change)
    {
        var host = _hosts.GetOrAdd(id);
        bool added;
        lock (host)
        {
            added = HostTransitions.Expect(host.Record, clock.Read());
        }

        // Forgotten in the meantime: it is expected afresh.
        return await ConfigureAsync(id, change) ? added : await ExpectAsync(id, change);
    }

    public Task<bool> ForgetAsync(string id)
    {
        if (!_hosts.TryRemove(id, out var host))
        {
            return Task.FromResult(false);
        }

        lock (host)
        {
            host.Live = false;
            bodies.Forgotten(host.Record);
            _sites.Move(host.Record, host.Record.Site, null);
            Index.Remove(host);
        }

        changes.Forgotten(id);
        return Task.FromResult(true);
    }

    // Moves every host whose deadline has passed to late or down, and decides on held site alerts.
    public Task SweepAsync()
    {
        var now = clock.Read();
        var events = new List<HostEvent>();
        while (_deadlines.NextDue(now.Mono) is var (host, due))
        {
            lock (host)
            {
                if (host.ScheduledAt != due)
                {
                    continue; // superseded by an earlier entry
                }

                host.ScheduledAt = null;
                if (!host.Live || host.Record.State == HostState.Down)
                {
                    continue;
                }

                var outcome = new HostOutcome();
                transitions.Sweep(host.Record, now, outcome);
                foreach (var down in outcome.Events)
                {
                    HoldForSite(host.Record, down, now.Wall);
                }

                if (host.Record.State != outcome.PreviousState)
                {
                    changes.HostChanged(host);
                    Index.Update(host);
                }

                if (host.Record.State != HostState.Down)
                {
                    _deadlines.Schedule(host, transitions.Deadline(host.Record));
                }

                events.AddRange(outcome.Events);
            }
        }

        foreach (var decision in _sites.Review(now.Wall))
        {
            changes.Released(decision.Release);
            if (decision.Change != SiteChange.None)
            {
                events.Add(SiteEvent(decision, now.Wall));
            }
        }

        return sink.PublishAsync(events);
    }

    // The server stood still (a long GC or disk pause, a suspended VM) for pause: nobody could
    // reach it, so every deadline moves by that much. A host's queued deadline is now early; when it comes
    // up, the sweeper sees the later one and queues that instead. O(hosts), but only after a pause.
    public void ExtendDeadlines(TimeSpan pause)
    {
        foreach (var host in _hosts.All)
        {
            lock (host)
            {
                host.Record.PauseCredit += pause;
            }
        }
    }

    // Queues every host for the store, bodies included: a store that lost what it had must be given everything again.
    public void RequeueAll()
    {
        foreach (var host in _hosts.All)
        {
            lock (host)
            {
                host.StoredBody = null;
                changes.HostChanged(host);
            }
        }
    }

    private async Task<bool> UpdateAsync(string id, Action<HostRecord, Now, HostOutcome> change)
    {
        if (!_hosts.TryGet(id, out var host))
        {
            return false;
        }

        var outcome = new HostOutcome();
        Task published;
        lock (host)
        {
            if (!host.Live)
            {
                return false;
            }

            var body = host.Record.LastBody;
            change(host.Record, clock.Read(), outcome);
            bodies.Settle(host.Record, body);
            Changed(host, outcome);
            published = sink.PublishAsync(outcome.Events);
        }

        await published;
        return true;
    }

    // What a beat means for the host's site: it may have moved, its neighbours' held alerts go out, its recovery may fold into the site's.
    private void AfterBeat(TrackedHost host, HostOutcome outcome)
    {
        var record = host.Record;
        if (outcome.PlaceChanged)
        {
            UpdateSite(host);
        }

        if (outcome.IsNew || record.Site is not { } site)
        {
            return;
        }

        changes.Released(_sites.Heard(site));
        if (outcome.PreviousState == HostState.Down && _sites.IsDown(site))
        {
            foreach (var recovered in outcome.Events.Where(e => e.Kind == HostEventKind.Recovered))
            {
                recovered.Held = true;
                _sites.HoldRecovery(site, recovered.At);
            }
        }
    }

    // A down alert waits to see whether the host's whole site went down with it.
    private void HoldForSite(HostRecord host, HostEvent down, DateTimeOffset now)
    {
        if (down.Kind == HostEventKind.Down && _sites.ShouldHoldDown(host.Site))
        {
            down.Held = true;
            _sites.HoldDown(host.Site!, down, now);
        }
    }

    // Queues the changed host for the store, and for the sweeper if its deadline came earlier (a shorter declared interval,
    // the end of a maintenance window); a later one is picked up when the queued one comes due. The host's lock is held.
    private void Changed(TrackedHost host, HostOutcome outcome)
    {
        changes.HostChanged(host);
        Index.Update(host);
        if (outcome.AddressChanges.Count > 0)
        {
            changes.AddressesChanged(outcome.AddressChanges);
        }

        if (host.Record.State != HostState.Down)
        {
            var deadline = transitions.Deadline(host.Record);
            if (host.ScheduledAt is not { } scheduled || deadline < scheduled)
            {
                _deadlines.Schedule(host, deadline);
            }
        }
    }

    private void UpdateSite(TrackedHost host)
    {
        if (!_options.CorrelateSites)
        {
            return;
        }

        var record = host.Record;
        var site = SiteOutages.SiteOf(record.Group, record.ReportedIp, record.Peer, _siteRules);
        if (site != record.Site)
        {
            _sites.Move(record, record.Site, site);
            record.Site = site;
        }
    }

    private static HostEvent SiteEvent(SiteDecision decision, DateTimeOffset now)
    {
        var names = decision.Members.Select(m => m.Id).Order(StringComparer.Ordinal).ToList();
        var (kind, state, summary) = decision.Change == SiteChange.Down
            ? (HostEventKind.SiteDown, HostState.Down, EventLines.SiteDown(decision.Site, names))
            : (HostEventKind.SiteRecovered, HostState.Up,
                EventLines.SiteRecovered(decision.Site, decision.Members.Count(m => !SiteOutages.IsSilent(m)), names.Count, decision.DownFor));
        var ip = IPAddress.TryParse(decision.Site, out _) ? decision.Site : "-";
        var lastSeen = decision.Members.Count > 0 ? decision.Members.Max(m => m.LastSeen) : now;
        return new HostEvent(now, decision.Site, kind, state, ip, null, lastSeen, TimeSpan.Zero, summary);
    }
}
