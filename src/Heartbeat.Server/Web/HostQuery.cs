using Heartbeat.Server.Hosts;

namespace Heartbeat.Server.Web;

// The host list as the page and the API show it, from the registry's HostIndex: trouble first (see HostIndex.Order),
// then by id. A page walks the listing from its cursor and copies only the hosts it shows; only a search (q) looks at
// more, and stops once it has a page.
internal static class HostQuery
{
    public const int DefaultLimit = 500;
    public const int MaxLimit = 5000;

    public static HostPage Run(HostRegistry registry, HostViews views, HostState? state, string? search, HostCursor? cursor, int offset, int limit)
    {
        var index = registry.Index;
        var listing = cursor is { } resumed ? index.Resume(resumed.Version) : index.Current;
        var (start, end) = listing.RangeOf(state);
        var position = cursor is { } after ? Math.Max(start, listing.PositionAfter(after.After)) : start;
        Func<HostRecord, bool> match = string.IsNullOrEmpty(search) ? static _ => true : host => Matches(host, search);
        var skip = offset;
        if (string.IsNullOrEmpty(search))
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
        int? total = string.IsNullOrEmpty(search) ? end - start : null;
        return new HostPage(total, offset, limit, counts, shown, next);
    }

    private static bool Matches(HostRecord host, string search) =>
        host.Id.Contains(search, StringComparison.OrdinalIgnoreCase)
        || host.Ip.Contains(search, StringComparison.OrdinalIgnoreCase)
        || host.Peer.Contains(search, StringComparison.OrdinalIgnoreCase);
}
