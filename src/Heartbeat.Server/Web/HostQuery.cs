using Heartbeat.Server.Hosts;

namespace Heartbeat.Server.Web;

// The host list as the page and the API show it, from the registry's HostIndex: trouble first (see HostIndex.Order),
// then by id. A page walks the listing from its cursor and copies only the hosts it shows; only a search (q) or a group
// filter looks at more, and stops once it has a page.
internal static class HostQuery
{
    public const int DefaultLimit = 500;

    // The page shows fewer: a screen or two of rows is what a person reads, and a browser draws them at once.
    public const int PageLimit = 100;
    public const int MaxLimit = 5000;

    public static HostPage Run(
        HostRegistry registry, HostViews views, HostState? state, string? search, IReadOnlyCollection<string>? groups, HostCursor? cursor, int offset, int limit)
    {
        var filtered = !string.IsNullOrEmpty(search) || groups is not null;
        var index = registry.Index;
        var listing = cursor is { } resumed ? index.Resume(resumed.Version) : index.Current;
        var (start, end) = listing.RangeOf(state);
        var position = cursor is { } after ? Math.Max(start, listing.PositionAfter(after.After)) : start;
        Func<HostRecord, bool> match = filtered ? host => (string.IsNullOrEmpty(search) || Matches(host, search)) && InGroups(host, groups) : static _ => true;
        var skip = offset;
        if (!filtered)
        {
            position = (int)Math.Min(end, (long)position + offset); // without a search, every host in range is listed
            skip = 0;
        }

        var shown = new List<HostView>(Math.Min(limit, end - position));
        ListedHost? last = null;
        for (; position < end && shown.Count < limit; position++)
        {
            var place = listing[position];
            if (registry.Find(place.Id!, match) is not { } host)
            {
                continue; // no match, or forgotten since this listing was made
            }

            if (skip > 0)
            {
                skip--;
                continue;
            }

            shown.Add(views.From(host));
            last = place;
        }

        string? next = null;
        if (position < end && last is { } lastShown)
        {
            index.Pin(listing);
            next = new HostCursor(listing.Version, lastShown).Encode();
        }

        var current = index.Current.Counts;
        var counts = HostIndex.Order.ToDictionary(ApiNames.Of, s => current[(int)s]);
        int? total = filtered ? null : end - start;
        return new HostPage(total, offset, limit, counts, shown, next);
    }

    // The worst state of a group's hosts, or null when it has none: the first of them in the listing, which is trouble first.
    public static HostState? WorstOf(HostRegistry registry, string group)
    {
        var listing = registry.Index.Current;
        for (var position = 0; position < listing.Hosts.Count; position++)
        {
            if (registry.Find(listing[position].Id!, host => GroupOf(host) == group) is { } host)
            {
                return host.State;
            }
        }

        return null;
    }

    // The group a host is in: the one it names in its beats, else the --group range it falls in. A site that is only a
    // shared peer address is no group.
    public static string? GroupOf(HostRecord host) => host.Group ?? (host.Site is { } site && site != host.Peer ? site : null);

    private static bool InGroups(HostRecord host, IReadOnlyCollection<string>? groups) =>
        groups is null || (GroupOf(host) is { } group && groups.Contains(group));

    private static bool Matches(HostRecord host, string search) =>
        host.Id.Contains(search, StringComparison.OrdinalIgnoreCase)
        || host.Ip.Contains(search, StringComparison.OrdinalIgnoreCase)
        || host.Peer.Contains(search, StringComparison.OrdinalIgnoreCase);
}
