using System.Globalization;
using Heartbeat.Protocol;

namespace Heartbeat.Server.Logging;

// The words of host events: each event's summary, as the heartbeat log, the page and alerts show it. One line each,
// "Kind - host (details)", so a grep for "Host down" finds every down. Times are the server's local time.
internal sealed class EventLines(TimeZoneInfo zone)
{
    private const int NamedSiteMembers = 10;

    public static string New(string host, string ip, TimeSpan expected) =>
        Invariant($"New host - {host} (IP {ip}, expected every {Durations.Format(expected)})");

    public static string IpChanged(string host, string? previous, string current) => $"Host IP changed - {host} ({previous} -> {current})";

    // Several changes of a host's IP, stored as one.
    public static string IpChanges(string host, string? previous, string current, int changes) =>
        Invariant($"Host IP changed - {host} ({previous} -> {current}, {changes} changes)");

    // was: what the host was before ("down", "failing", "silent in maintenance").
    public static string Recovered(string host, string was, TimeSpan @for) => $"Host recovered - {host} ({was} for {Durations.Format(@for)})";

    public static string Failing(string host, string? message) => message is null ? $"Host failing - {host}" : $"Host failing - {host} ({message})";

    public static string Rebooted(string host, string from, string to) => $"Host rebooted - {host} (boot {Short(from)} -> {Short(to)})";

    public static string DuplicateIdentity(string host, string one, string other) =>
        $"Duplicate identity - {host} (beats alternate between boots {Short(one)} and {Short(other)}: two machines use this name)";

    public static string ClockSkew(string host, TimeSpan skew) =>
        $"Clock skew - {host} (its clock is {Durations.Format(skew)} {(skew > TimeSpan.Zero ? "ahead of" : "behind")} the server's)";

    public static string MaintenanceOver(string host) => $"Maintenance over - {host} (ended early)";

    public string Maintenance(string host, TimeSpan window, DateTimeOffset until) =>
        $"Maintenance - {host} (alerts paused for {Durations.Format(window)}, until {Local(until)})";

    // why: what more there is to its silence, or null ("was failing", "not back when its maintenance ended").
    public string Down(string host, DateTimeOffset lastSeen, TimeSpan expected, int misses, string? why)
    {
        var missed = misses > 1 ? Invariant($", {misses} beats missed") : string.Empty;
        var reason = why is null ? string.Empty : $", {why}";
        return $"Host down - {host} (last seen {Local(lastSeen)}, expected every {Durations.Format(expected)}{missed}{reason})";
    }

    public string NeverSeen(string host, DateTimeOffset added, TimeSpan expected) =>
        $"Host down - {host} (never seen since it was added {Local(added)}, expected every {Durations.Format(expected)})";

    public static string SiteDown(string site, IReadOnlyList<string> silent)
    {
        var listed = string.Join(", ", silent.Take(NamedSiteMembers))
            + (silent.Count > NamedSiteMembers ? Invariant($" and {silent.Count - NamedSiteMembers} more") : string.Empty);
        return Invariant($"Site down - {site} ({silent.Count} hosts silent: {listed})");
    }

    public static string SiteRecovered(string site, int back, int of, TimeSpan after) =>
        Invariant($"Site recovered - {site} ({back} of {of} hosts back after {Durations.Format(after)})");

    private static string Short(string bootId) => bootId.Length > 8 ? bootId[..8] : bootId;

    private string Local(DateTimeOffset at) => TimeZoneInfo.ConvertTime(at, zone).ToString(LogLines.TimestampFormat, CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
