using System.Globalization;
using Heartbeat.Protocol;
using Heartbeat.Server.Hosts;

namespace Heartbeat.Server.Web;

// A short remark on a host for the page: its text, and a kind the page styles it by (maintenance, warn, info).
internal sealed record HostNote(string Text, string Kind);

// What else is worth knowing of a host, worded once: the page renders these as they come, on the server and live.
internal static class HostNotes
{
    private const int MaxReasonLength = 200;

    private static readonly TimeSpan DuplicateShownFor = TimeSpan.FromDays(1);

    public static IReadOnlyList<HostNote> Of(HostRecord host, DateTimeOffset now, TimeZoneInfo zone, HostsOptions options)
    {
        var notes = new List<HostNote>(0);
        if (host.MaintenanceUntil is { } until && until > now)
        {
            notes.Add(new($"maintenance until {LocalTime(until, zone)}", "maintenance"));
        }

        if (host.ClockOff(options.ClockSkewWarning) && host.ClockSkew is { } skew)
        {
            notes.Add(new($"clock {(skew > TimeSpan.Zero ? "+" : "-")}{Durations.Format(skew.Duration())}", "warn"));
        }

        if (host.DuplicateSeenAt is { } seen && now - seen < DuplicateShownFor)
        {
            notes.Add(new("duplicate identity", "warn"));
        }

        if (host.StartedAt is { } started)
        {
            notes.Add(new($"running for {Durations.Format(now - started)}", "info"));
        }
        else if (host.LastRunTime is { } run)
        {
            notes.Add(new($"last run {Durations.Format(run)}", "info"));
        }

        if (host.Site is { } site)
        {
            notes.Add(new($"site {site}", "info"));
        }

        return notes;
    }

    // Why a host says it fails, for the list: the message of its last beat, else the first line of its failure's body.
    public static string? ReasonOf(HostRecord host)
    {
        if (host.ClientStatus != HeartbeatStatus.Fail)
        {
            return null;
        }

        var reason = host.Message ?? (host.LastBody is { Kind: "fail", Text: { } text } ? FirstLine(text) : null);
        return reason is { Length: > MaxReasonLength } ? string.Concat(reason.AsSpan(0, MaxReasonLength - 1), "…") : reason;
    }

    private static string? FirstLine(string text)
    {
        var line = text.AsSpan().TrimStart();
        var end = line.IndexOfAny('\r', '\n');
        line = (end < 0 ? line : line[..end]).TrimEnd();
        return line.IsEmpty ? null : line.ToString();
    }

    public static string LocalTime(DateTimeOffset at, TimeZoneInfo zone) =>
        TimeZoneInfo.ConvertTime(at, zone).ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture);
}
