using Heartbeat.Server.Hosts;

namespace Heartbeat.Server.Web;

// The host list as the page and the API show it: trouble first (down, failing, silent in maintenance, late, up), then by name.
internal static class HostQuery
{
    public const int DefaultLimit = 500;
    public const int MaxLimit = 5000;

    public static HostPage Run(HostRegistry registry, HostViews views, HostState? state, string? search, int offset, int limit)
    {
        var all = registry.List();
        var counts = Enum.GetValues<HostState>().ToDictionary(ApiNames.Of, s => all.Count(h => h.State == s));
        var matching = all
            .Where(h => state is null || h.State == state)
            .Where(h => string.IsNullOrEmpty(search)
                || h.Id.Contains(search, StringComparison.OrdinalIgnoreCase)
                || h.Ip.Contains(search, StringComparison.OrdinalIgnoreCase)
                || h.Peer.Contains(search, StringComparison.OrdinalIgnoreCase))
            .OrderBy(h => Rank(h.State))
            .ThenBy(h => h.Id, StringComparer.Ordinal)
            .ToList();
        var page = matching.Skip(offset).Take(limit).Select(h => views.From(h)).ToList();
        return new HostPage(matching.Count, offset, limit, counts, page);
    }

    private static int Rank(HostState state) => state switch
    {
        HostState.Down => 0,
        HostState.Failing => 1,
        HostState.Maintenance => 2,
        HostState.Late => 3,
        _ => 4,
    };
}
