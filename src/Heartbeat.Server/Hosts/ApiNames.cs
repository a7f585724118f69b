namespace Heartbeat.Server.Hosts;

// How states and event kinds are named outside the server: in the API, metrics, webhooks and filters.
internal static class ApiNames
{
    public static string Of(HostState state) => state switch
    {
        HostState.Up => "up",
        HostState.Late => "late",
        HostState.Down => "down",
        HostState.Failing => "failing",
        HostState.Maintenance => "maintenance",
        HostState.Pending => "pending",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };

    public static string Of(HostEventKind kind) => kind switch
    {
        HostEventKind.New => "new",
        HostEventKind.Down => "down",
        HostEventKind.Recovered => "recovered",
        HostEventKind.IpChanged => "ip-changed",
        HostEventKind.Failing => "failing",
        HostEventKind.Maintenance => "maintenance",
        HostEventKind.Rebooted => "rebooted",
        HostEventKind.DuplicateIdentity => "duplicate-identity",
        HostEventKind.ClockSkew => "clock-skew",
        HostEventKind.SiteDown => "site-down",
        HostEventKind.SiteRecovered => "site-recovered",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static HostState? ParseState(string? name) =>
        Enum.GetValues<HostState>().Cast<HostState?>().FirstOrDefault(s => Of(s!.Value) == name);
}
