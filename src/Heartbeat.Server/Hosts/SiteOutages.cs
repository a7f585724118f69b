using System.Diagnostics.CodeAnalysis;
using System.Net;
using Heartbeat.Protocol;

namespace Heartbeat.Server.Hosts;

// A named address range (--group office=192.168.1.0/24): hosts whose IP or peer address is in it form one site.
internal sealed record SiteRule(string Name, IPNetwork Network)
{
    public static bool TryParse(string text, [NotNullWhen(true)] out SiteRule? rule, [NotNullWhen(false)] out string? error)
    {
        rule = null;
        var parts = text.Split('=', 2, StringSplitOptions.TrimEntries);
        if (parts.Length != 2 || !HeartbeatRules.IsValidLabel(parts[0], HeartbeatRules.MaxGroupLength))
        {
            error = $"'{text}' is not NAME=CIDR (a name of letters, digits, '.', '-', '_' or ':', then an address range such as 192.168.1.0/24).";
            return false;
        }

        if (!IPNetwork.TryParse(parts[1], out var network))
        {
            error = $"'{parts[1]}' is not an address range such as 192.168.1.0/24 or 2001:db8::/48.";
            return false;
        }

        rule = new SiteRule(parts[0], network);
        error = null;
        return true;
    }

    public bool Contains(string? address) => IPAddress.TryParse(address, out var ip) && Network.Contains(ip);
}

// Correlated outages. Hosts form a site when they name the same group, fall in the same --group range, or
// connect from the same (non-loopback) address, such as the public address of the router they sit behind.
// When a host of a site with two or more hosts goes down, its alert is held: if every host of the site goes
// silent within the outage window, one "site down" alert goes out instead of one per host; if any other host
// of the site beats meanwhile, or the window passes, the held alert goes out as it was. Recovery works the
// same way: the hosts' recoveries are folded into one "site recovered" once all are back or a window has
// passed since the first, and a host still silent then gets its own down alert. Hosts are marked down one by
// one on the page and in the log whatever happens; only alerts are folded. Kept in memory: a restart forgets
// held alerts, like the flapping count.
internal sealed class SiteOutages(TimeSpan window)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Site> _sites = new(StringComparer.Ordinal);

    // Sites with held alerts or in an outage: the only ones a review looks at, so its cost does not grow with the fleet.
    private readonly HashSet<string> _active = new(StringComparer.Ordinal);

    // The site a host belongs to by the rule above, or null.
    public static string? SiteOf(string? group, string? reportedIp, string peer, IReadOnlyList<SiteRule> rules)
    {
        if (group is not null)
        {
            return group;
        }

        foreach (var rule in rules)
        {
            if (rule.Contains(reportedIp) || rule.Contains(peer))
            {
                return rule.Name;
            }
        }

        return IsSiteAddress(peer) ? peer : null;
    }

    // A peer as PeerAddress.Format writes it, canonical text, that is not this machine. Checked without making an
    // IPAddress: a restore asks for every host, and a million parsed addresses were 38 MiB of garbage.
    private static bool IsSiteAddress(string peer) =>
        IPAddress.IsValid(peer) && !peer.StartsWith("127.", StringComparison.Ordinal) && peer != "::1";

    public void Move(HostRecord host, string? from, string? to)
    {
        lock (_gate)
        {
            if (from is not null && _sites.TryGetValue(from, out var old))
            {
                old.Members.Remove(host);
                if (old.Members.Count == 0)
                {
                    _sites.Remove(from);
                }
            }

            if (to is not null)
            {
                if (!_sites.TryGetValue(to, out var site))
                {
                    site = _sites[to] = new Site();
                }

                site.Members.Add(host);
            }
        }
    }

    // Whether a down alert from this site should wait to see if the whole site went down.
    public bool ShouldHoldDown(string? site)
    {
        lock (_gate)
        {
            return site is not null && _sites.TryGetValue(site, out var s) && s.Members.Count >= 2 && !s.Down;
        }
    }

    // Whether the site is in an outage, so that a recovery of one of its hosts is folded into the site's.
    public bool IsDown(string? site)
    {
        lock (_gate)
        {
            return site is not null && _sites.TryGetValue(site, out var s) && s.Down;
        }
    }

    public void HoldDown(string site, HostEvent down, DateTimeOffset now)
    {
        lock (_gate)
        {
            if (_sites.TryGetValue(site, out var s))
            {
                s.HeldDowns.Add(down);
                s.FirstHeldAt ??= now;
                _active.Add(site);
            }
        }
    }

    public void HoldRecovery(string site, DateTimeOffset now)
    {
        lock (_gate)
        {
            if (_sites.TryGetValue(site, out var s))
            {
                s.RecoveringSince ??= now;
            }
        }
    }

    // A host of the site beat: the site's link works, so the down alerts held for it are the hosts' own; returns them.
    public IReadOnlyList<HostEvent> Heard(string site)
    {
        lock (_gate)
        {
            if (!_sites.TryGetValue(site, out var s) || s.Down || s.HeldDowns.Count == 0)
            {
                return [];
            }

            var released = s.HeldDowns;
            s.ResetHeld();
            return released;
        }
    }

    // Decides what held alerts have become; called after every sweep.
    public IReadOnlyList<SiteDecision> Review(DateTimeOffset now)
    {
        var decisions = new List<SiteDecision>();
        lock (_gate)
        {
            if (_active.Count == 0)
            {
                return decisions;
            }

            foreach (var name in _active.ToList())
            {
                if (!_sites.TryGetValue(name, out var site))
                {
                    _active.Remove(name);
                    continue;
                }

                // Member states are read without their locks: a decision a sweep late is still right.
                if (!site.Down && site.HeldDowns.Count > 0)
                {
                    if (site.Members.All(IsSilent))
                    {
                        decisions.Add(new SiteDecision(name, SiteChange.Down, [.. site.Members], Release: []));
                        site.Down = true;
                        site.DownSince = now;
                        site.Suppressed = site.HeldDowns;
                        site.ResetHeld();
                    }
                    else if (now - site.FirstHeldAt >= window)
                    {
                        decisions.Add(new SiteDecision(name, SiteChange.None, [], Release: site.HeldDowns));
                        site.ResetHeld();
                    }
                }
                else if (site.Down && site.RecoveringSince is { } since && (now - since >= window || !site.Members.Any(IsSilent)))
                {
                    var stillDown = site.Suppressed.Where(e => site.Members.Any(m => m.Id == e.HostId && IsSilent(m))).ToList();
                    decisions.Add(new SiteDecision(name, SiteChange.Recovered, [.. site.Members], stillDown, now - site.DownSince));
                    site.Down = false;
                    site.RecoveringSince = null;
                    site.Suppressed = [];
                }

                if (!site.Down && site.HeldDowns.Count == 0)
                {
                    _active.Remove(name);
                }
            }
        }

        return decisions;
    }

    // Down, or silent past its deadline in a maintenance window.
    public static bool IsSilent(HostRecord host) => host.State is HostState.Down or HostState.Maintenance;

    private sealed class Site
    {
        // A set: a site can be a whole network behind one NAT, and every host that joins or leaves looks itself up.
        public HashSet<HostRecord> Members { get; } = [];

        public List<HostEvent> HeldDowns { get; private set; } = [];

        public DateTimeOffset? FirstHeldAt { get; set; }

        public bool Down { get; set; }

        public DateTimeOffset DownSince { get; set; }

        public DateTimeOffset? RecoveringSince { get; set; }

        // The down alerts the site's own alert replaced; sent after all for hosts still silent when it recovers.
        public List<HostEvent> Suppressed { get; set; } = [];

        public void ResetHeld()
        {
            HeldDowns = [];
            FirstHeldAt = null;
        }
    }
}

internal enum SiteChange
{
    None,
    Down,
    Recovered,
}

// What a review decided for one site: a site event to raise (or none), and held alerts to send as they were.
internal sealed record SiteDecision(string Site, SiteChange Change, IReadOnlyList<HostRecord> Members, IReadOnlyList<HostEvent> Release, TimeSpan DownFor = default);
