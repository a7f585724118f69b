using System.Diagnostics.CodeAnalysis;
using Heartbeat.Protocol;
using Heartbeat.Server.Settings;

namespace Heartbeat.Server.Hosts;

internal sealed record HostsOptions
{
    // Declared before the settings that use it: static fields are set in order.
    private static readonly ValueParser<TimeSpan> Window = ValueParsers.Duration(TimeSpan.FromSeconds(1), TimeSpan.FromDays(1), "a duration", "30s, 2m");

    public static readonly IReadOnlyList<Setting<HostsOptions>> Settings =
    [
        new ValueSetting<HostsOptions, TimeSpan>
        {
            Name = "default-interval", Variable = "HEARTBEAT_DEFAULT_INTERVAL", ValueName = "duration",
            Help = "Expected interval of hosts that neither declare one nor have beaten often enough to learn it (e.g. 60s, 5m)",
            Parse = ValueParsers.Duration(Liveness.MinimumInterval, Liveness.MaximumInterval, "an interval", "30s, 5m, 1h"), Format = Durations.Format,
            Get = o => o.DefaultInterval, Set = (o, interval) => o with { DefaultInterval = interval },
        },
        new ValueSetting<HostsOptions, TimeSpan>
        {
            Name = "min-interval", Variable = "HEARTBEAT_MIN_INTERVAL", ValueName = "duration",
            Help = "Gaps between beats shorter than this are bursts (a few quick curls), not a rhythm: never learned from, and no learned interval is shorter",
            Parse = ValueParsers.Duration(Liveness.MinimumInterval, Liveness.MaximumInterval, "an interval", "10s, 1m"), Format = Durations.Format,
            Get = o => o.MinInterval, Set = (o, floor) => o with { MinInterval = floor },
        },
        new ValueSetting<HostsOptions, int>
        {
            Name = "down-after-misses", Variable = "HEARTBEAT_DOWN_AFTER_MISSES", ValueName = "count",
            Help = "Missed intervals before a host is down, for hosts that do not send \"misses\" (1: down after one interval plus grace)",
            Parse = ValueParsers.Int(1, HeartbeatRules.MaxMissesBeforeDown, "a number of missed intervals"),
            Get = o => o.MissesBeforeDown, Set = (o, misses) => o with { MissesBeforeDown = misses },
        },
        new ListSetting<HostsOptions, SiteRule>(',')
        {
            Name = "group", Variable = "HEARTBEAT_GROUPS", ValueName = "name=cidr",
            Help = "Hosts whose IP or peer address is in this range form a site, repeatable (e.g. office=192.168.1.0/24): "
                + "when all of a site's hosts go silent, one site-down alert replaces theirs",
            Parse = TryParseSiteRule,
            Set = (o, rules) => o with { SiteRules = rules },
        },
        new ValueSetting<HostsOptions, TimeSpan>
        {
            Name = "outage-window", Variable = "HEARTBEAT_OUTAGE_WINDOW", ValueName = "duration",
            Help = "How long a down host's alert waits for the rest of its site (same group, --group range or peer address) to go silent too",
            Parse = Window, Format = Durations.Format,
            Get = o => o.OutageWindow, Set = (o, window) => o with { OutageWindow = window },
        },
        new ValueSetting<HostsOptions, TimeSpan>
        {
            Name = "clock-skew-warning", Variable = "HEARTBEAT_CLOCK_SKEW_WARNING", ValueName = "duration",
            Help = "Warn (a clock-skew event, a mark on the page) when a host's clock (its \"ts\" field) is off by more than this",
            Parse = Window, Format = Durations.Format,
            Get = o => o.ClockSkewWarning, Set = (o, skew) => o with { ClockSkewWarning = skew },
        },
        new ValueSetting<HostsOptions, int>
        {
            Name = "max-hosts", Variable = "HEARTBEAT_MAX_HOSTS", ValueName = "count",
            Help = "Most hosts the server tracks: past it, beats of new hosts (and PUT of new ones) get 503, while known hosts go on as before",
            Parse = ValueParsers.Int(1, 100_000_000, "a number of hosts"),
            Get = o => o.MaxHosts, Set = (o, max) => o with { MaxHosts = max },
        },
        new ValueSetting<HostsOptions, int>
        {
            Name = "max-new-hosts-per-minute", Variable = "HEARTBEAT_MAX_NEW_HOSTS_PER_MINUTE", ValueName = "count",
            Help = "Most new hosts one address (a proxy's client with --trust-proxy) may add in a minute: past it, 429 with Retry-After; 0 = off",
            Parse = ValueParsers.Int(0, 1_000_000, "a number of hosts a minute", "; 0 turns it off"),
            Get = o => o.MaxNewHostsPerMinute, Set = (o, max) => o with { MaxNewHostsPerMinute = max },
        },
        new ValueSetting<HostsOptions, long>
        {
            Name = "max-body-memory", Variable = "HEARTBEAT_MAX_BODY_MEMORY", ValueName = "size",
            Help = "Memory all kept ping bodies may take together (2 bytes a character): past it, a new body is not kept (the API shows \"kept\": false)",
            Parse = ValueParsers.Size("a memory size", "256MiB, 1GiB, 0 to keep none"), Format = ByteSize.Format,
            Get = o => o.MaxBodyMemory, Set = (o, size) => o with { MaxBodyMemory = size },
        },
    ];

    // Expected interval of a host that neither declares one nor has beaten often enough to learn it from.
    public TimeSpan DefaultInterval { get; init; } = TimeSpan.FromSeconds(60);

    // Gaps between beats shorter than this are bursts, not a rhythm: never learned from, and no learned interval is shorter.
    public TimeSpan MinInterval { get; init; } = TimeSpan.FromSeconds(10);

    // Missed intervals before a host is down, for hosts that do not say (the "misses" field).
    public int MissesBeforeDown { get; init; } = 1;

    // How often the sweeper looks for hosts past their deadline; a host is marked down at most this late.
    public TimeSpan SweepInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    // A host whose clock is further off than this (either way) gets a clock-skew event and a warning on the page.
    public TimeSpan ClockSkewWarning { get; init; } = TimeSpan.FromSeconds(30);

    // How long a down host's alert waits for the rest of its site to go silent too, before it goes out on its own.
    public TimeSpan OutageWindow { get; init; } = TimeSpan.FromMinutes(2);

    // bench/memory.sh (bench/RESULTS.md): about 1.5 kB of RSS a host; 100,000 hosts with bodies at the default
    // --max-body-memory took 504 MiB in all, the most a flood of invented names can cost with the defaults.
    public int MaxHosts { get; init; } = 100_000;

    // Far above an office joining behind one NAT (a few hundred hosts, each new once), far below a script inventing names.
    public int MaxNewHostsPerMinute { get; init; } = 100;

    // Room for the full 10,000-byte body (20 kB as held) of about 13,000 hosts.
    public long MaxBodyMemory { get; init; } = 256L << 20;

    // Named address ranges (--group NAME=CIDR): hosts whose IP or peer address falls in one form a site.
    public IReadOnlyList<SiteRule> SiteRules { get; init; } = [];

    // Whether hosts are grouped into sites at all; off in a fleet, where alerts are decided by the shared store.
    public bool CorrelateSites { get; init; } = true;

    private static bool TryParseSiteRule(string text, [MaybeNullWhen(false)] out SiteRule rule, out string error)
    {
        var ok = SiteRule.TryParse(text, out rule, out var problem);
        error = problem ?? string.Empty;
        return ok;
    }
}
