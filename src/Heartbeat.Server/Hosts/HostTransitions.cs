using Heartbeat.Server.Logging;

namespace Heartbeat.Server.Hosts;

// A host's state machine: what a beat, a silence, a maintenance window or a job's signal does to one host, and the
// events that causes. It changes only the host it is handed, takes no lock, reads no clock (the caller says when) and
// does no I/O, so the lone server's registry and a fleet server's round in the shared store run the very same rules.
// Events come out unnumbered; whoever publishes or stores them gives them their ids.
internal sealed class HostTransitions(HostsOptions options, EventLines lines)
{
    private static readonly TimeSpan DuplicateReminder = TimeSpan.FromDays(1);

    public HostsOptions Options => options;

    public (TimeSpan Interval, IntervalSource Source) Expected(HostRecord host) => Liveness.Expected(host, options);

    // The next monotonic moment the host must be looked at: when it turns late, or down, or its maintenance window ends.
    public TimeSpan Deadline(HostRecord host)
    {
        var due = host.State switch
        {
            HostState.Up => Liveness.LateAt(host, options),
            HostState.Maintenance when host.MaintenanceEndsMono is { } ends => ends,
            _ => Liveness.DownAt(host, options),
        };
        if (due > host.NotBefore)
        {
            return due;
        }

        var (expected, _) = Expected(host);
        return host.NotBefore + expected + Liveness.Grace(host, expected);
    }

    // A beat another server received before the host's last one (that server's round came later) only counts: last
    // seen never moves backwards. True when receivedAt is such a beat, and it was counted.
    public static bool CountIfOutrun(HostRecord host, DateTimeOffset receivedAt)
    {
        if (host.Beats == 0 || receivedAt >= host.LastSeen)
        {
            return false;
        }

        host.Beats++;
        return true;
    }

    public void Beat(HostRecord host, ReceivedHeartbeat beat, string peer, Now now, HostOutcome outcome)
    {
        var isNew = host.Beats == 0;
        var previousIp = isNew ? null : host.Ip;
        var previousState = host.State;
        outcome.IsNew = isNew;
        outcome.PreviousState = previousState;
        if (isNew)
        {
            host.FirstSeen = now.Wall;
        }
        else
        {
            Learn(host, now.Mono - host.LastSeenMono);
            AddressChanged(host, AddressKind.Reported, host.ReportedIp, beat.Ip, now, outcome);
            AddressChanged(host, AddressKind.Peer, host.Peer, peer, now, outcome);
        }

        // What a host declares holds until it declares something else: a cron job's ping without ?interval= keeps its day.
        var group = beat.Group ?? host.Group;
        outcome.PlaceChanged = isNew || host.ReportedIp != beat.Ip || host.Peer != peer || host.Group != group;
        if (outcome.PlaceChanged)
        {
            // Only then: an unchanged place keeps its strings, which restored hosts share (see IStoredRow.GetShared).
            // A reported address that is the peer's (a host on the server's own network) is kept once.
            host.ReportedIp = beat.Ip == peer ? peer : beat.Ip;
            host.Peer = peer;
            host.Group = group;
        }

        host.DeclaredInterval = beat.Interval ?? host.DeclaredInterval;
        host.DeclaredMisses = beat.MissesBeforeDown ?? host.DeclaredMisses;
        host.LastSeen = now.Wall;
        host.LastSeenMono = now.Mono;
        host.PauseCredit = TimeSpan.Zero;
        host.Beats++;
        host.Message = beat.Message;
        host.ClientStatus = beat.Status;
        if (beat.Body is not null)
        {
            host.LastBody = new PingBody(now.Wall, beat.Status == HeartbeatStatus.Fail ? "fail" : "success", beat.Body);
        }

        if (host.StartedAt is { } started)
        {
            host.LastRunTime = now.Wall - started;
            host.StartedAt = null;
        }

        var state = beat.Status == HeartbeatStatus.Fail ? HostState.Failing : HostState.Up;
        if (isNew)
        {
            var since = host.StateSince;
            SetState(host, state, now);
            outcome.Events.Add(Raise(host, HostEventKind.New, now, null, EventLines.New(host.Id, host.Ip, Expected(host).Interval)));
            if (previousState == HostState.Down)
            {
                // Expected by an admin, down before it ever beat: its first beat ends that outage.
                outcome.Events.Add(Raise(host, HostEventKind.Recovered, now, null, EventLines.Recovered(host.Id, "down", now.Wall - since)));
            }

            if (state == HostState.Failing)
            {
                outcome.Events.Add(RaiseFailing(host, now));
            }
        }
        else
        {
            if (previousIp != host.Ip)
            {
                host.IpChanges++;
                outcome.Events.Add(Raise(host, HostEventKind.IpChanged, now, previousIp, EventLines.IpChanged(host.Id, previousIp, host.Ip)));
            }

            ChangeState(host, previousState, state, now, outcome);
        }

        TrackBoot(host, beat.BootId, now, outcome);
        TrackClock(host, beat.ClientTime, now, outcome);
        if (beat.Maintenance is { } window)
        {
            SetMaintenance(host, window, now, outcome);
        }
    }

    // Judges a host whose deadline has come: late, down, or silent in its maintenance window. A down host stays as it is.
    public void Sweep(HostRecord host, Now now, HostOutcome outcome)
    {
        outcome.PreviousState = host.State;
        if (host.State == HostState.Down)
        {
            return;
        }

        var pastDown = now.Mono >= Liveness.DownAt(host, options);
        if (pastDown && !host.InMaintenance(now))
        {
            var (expected, _) = Expected(host);
            var summary = host.Beats == 0
                ? lines.NeverSeen(host.Id, host.FirstSeen, expected)
                : lines.Down(host.Id, host.LastSeen, expected, Liveness.Misses(host, options), host.State switch
                {
                    HostState.Failing => "was failing",
                    HostState.Maintenance => "not back when its maintenance ended",
                    _ => null,
                });

            // Dated from its first missed beat, so that "down for" on its recovery tells the whole outage.
            SetState(host, HostState.Down, now);
            host.StateSince = Liveness.FirstMissed(host, options);
            outcome.Events.Add(Raise(host, HostEventKind.Down, now, null, summary));
        }
        else if (pastDown && host.State != HostState.Maintenance)
        {
            // Silent past its deadline, inside a maintenance window: down only if still silent when it ends.
            SetState(host, HostState.Maintenance, now);
        }
        else if (host.State == HostState.Up && now.Mono >= Liveness.LateAt(host, options))
        {
            SetState(host, HostState.Late, now);
        }
    }

    // An admin expects a host that has not beaten yet (PUT /api/v1/hosts/{id}): it is pending, and down if it does not
    // appear within its interval and grace from now. True when the host is new; one that exists stays as it is.
    public static bool Expect(HostRecord host, Now now)
    {
        if (host.Beats > 0 || host.State is HostState.Pending or HostState.Down)
        {
            return false;
        }

        host.FirstSeen = host.LastSeen = now.Wall;
        host.LastSeenMono = now.Mono;
        SetState(host, HostState.Pending, now);
        return true;
    }

    // An admin's change of the host's liveness settings: each field given is set, and null falls back (see Liveness).
    public static void Configure(HostRecord host, HostSettingsChange change)
    {
        host.ConfiguredInterval = change.Interval is { } interval ? interval.Value : host.ConfiguredInterval;
        host.ConfiguredGrace = change.Grace is { } grace ? grace.Value : host.ConfiguredGrace;
        host.ConfiguredMisses = change.Misses is { } misses ? misses.Value : host.ConfiguredMisses;
        host.Schedule = change.Schedule is { } schedule ? schedule.Value : host.Schedule;
        host.TimeZone = change.TimeZone is { } zone ? zone.Value : host.TimeZone;
    }

    // Starts a maintenance window (a zero window ends one): the host's alerts pause until then, and if it is silent when
    // the window ends, it is down then.
    public void SetMaintenance(HostRecord host, TimeSpan window, Now now, HostOutcome outcome)
    {
        if (window <= TimeSpan.Zero)
        {
            var wasIn = host.InMaintenance(now);
            host.MaintenanceUntil = null;
            host.MaintenanceEndsMono = null;
            if (wasIn)
            {
                outcome.Events.Add(Raise(host, HostEventKind.Maintenance, now, null, EventLines.MaintenanceOver(host.Id)));
            }

            return;
        }

        var until = now.Wall + window;
        host.MaintenanceUntil = until;
        host.MaintenanceEndsMono = now.Mono + window;
        outcome.Events.Add(Raise(host, HostEventKind.Maintenance, now, null, lines.Maintenance(host.Id, window, until)));
    }

    // The job behind the host started (/ping/{host}/start): not a beat, but its next beat tells how long it ran.
    public static void Start(HostRecord host, PingBody? body, Now now)
    {
        host.StartedAt = now.Wall;
        host.LastBody = body ?? host.LastBody;
    }

    // Keeps a ping body (/ping/{host}/log) without counting it as a beat.
    public static void Log(HostRecord host, PingBody body) => host.LastBody = body;

    private void ChangeState(HostRecord host, HostState previous, HostState state, Now now, HostOutcome outcome)
    {
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
            outcome.Events.Add(Raise(host, HostEventKind.Recovered, now, null, EventLines.Recovered(host.Id, Describe(previous), now.Wall - since)));
        }

        if (state == HostState.Failing)
        {
            outcome.Events.Add(RaiseFailing(host, now));
        }
    }

    // A new boot id is a reboot; the one before it coming back means two machines beat under one name.
    private void TrackBoot(HostRecord host, string? bootId, Now now, HostOutcome outcome)
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
            outcome.Events.Add(Raise(host, HostEventKind.Rebooted, now, null, EventLines.Rebooted(host.Id, current, bootId)));
            return;
        }

        // Said once, then again only as a daily reminder while the two machines keep at it.
        var remindAt = host.DuplicateSeenAt + DuplicateReminder;
        host.DuplicateSeenAt = now.Wall;
        if (remindAt is null || now.Wall >= remindAt)
        {
            outcome.Events.Add(Raise(host, HostEventKind.DuplicateIdentity, now, null, EventLines.DuplicateIdentity(host.Id, current, bootId)));
        }
    }

    private void TrackClock(HostRecord host, DateTimeOffset? clientTime, Now now, HostOutcome outcome)
    {
        if (clientTime is not { } sent)
        {
            return;
        }

        var wasOff = host.ClockOff(options.ClockSkewWarning);
        host.ClockSkew = sent - now.Wall;
        if (!wasOff && host.ClockOff(options.ClockSkewWarning))
        {
            outcome.Events.Add(Raise(host, HostEventKind.ClockSkew, now, null, EventLines.ClockSkew(host.Id, host.ClockSkew!.Value)));
        }
    }

    // Gaps shorter than the floor are bursts (a few quick curls, a retry), not the host's rhythm: they teach nothing.
    private void Learn(HostRecord host, TimeSpan gap)
    {
        if (gap < options.MinInterval)
        {
            return;
        }

        host.Gaps.Add(gap);
        if (host.Gaps.Estimate is { } learned)
        {
            host.LearnedInterval = learned < options.MinInterval ? options.MinInterval : learned;
        }
    }

    private HostEvent RaiseFailing(HostRecord host, Now now) =>
        Raise(host, HostEventKind.Failing, now, null, EventLines.Failing(host.Id, host.Message));

    // An event of the host as it stands; in a maintenance window it alerts nobody (but the window's own events do).
    private HostEvent Raise(HostRecord host, HostEventKind kind, Now now, string? previousIp, string summary) =>
        new(now.Wall, host.Id, kind, host.State, host.Ip, previousIp, host.LastSeen, Expected(host).Interval, summary)
        {
            Silenced = kind != HostEventKind.Maintenance && host.InMaintenance(now),
        };

    private static void AddressChanged(HostRecord host, AddressKind kind, string? previous, string? current, Now now, HostOutcome outcome)
    {
        if (previous != current)
        {
            outcome.AddressChanges.Add(new AddressChange(now.Wall, host.Id, kind, previous, current));
        }
    }

    private static void SetState(HostRecord host, HostState state, Now now)
    {
        host.State = state;
        host.StateSince = now.Wall;
    }

    private static string Describe(HostState state) => state switch
    {
        HostState.Down => "down",
        HostState.Maintenance => "silent in maintenance",
        HostState.Failing => "failing",
        HostState.Late => "late",
        HostState.Pending => "pending",
        _ => "up",
    };
}

// What one transition of one host caused: events (not yet numbered), address changes, and what it changed about the host.
internal sealed class HostOutcome
{
    public List<HostEvent> Events { get; } = [];

    public List<AddressChange> AddressChanges { get; } = [];

    public bool IsNew { get; set; }

    public HostState PreviousState { get; set; }

    // Its reported IP, peer address or group changed: it may belong to another site now.
    public bool PlaceChanged { get; set; }
}

// A value an admin gives a setting; null makes the host fall back to what it declares, learns or the server's default.
internal readonly record struct Given<T>(T Value);

// An admin's change of a host's liveness settings: only the fields that are given change.
internal sealed record HostSettingsChange
{
    public Given<TimeSpan?>? Interval { get; init; }

    public Given<TimeSpan?>? Grace { get; init; }

    public Given<int?>? Misses { get; init; }

    // A valid 5-field cron expression, or null.
    public Given<string?>? Schedule { get; init; }

    // A time zone this machine knows by its IANA name, or null.
    public Given<string?>? TimeZone { get; init; }
}
