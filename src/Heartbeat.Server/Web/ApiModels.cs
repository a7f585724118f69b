using System.Text.Json;
using System.Text.Json.Serialization;
using Heartbeat.Server.Diagnostics;
using Heartbeat.Server.Hosts;

namespace Heartbeat.Server.Web;

// A host as the API shows it. Times are UTC (ISO 8601); durations are in seconds. Uptime is in the view of one host only.
internal sealed record HostView(
    string Id,
    string State,
    string Ip,
    string? ReportedIp,
    string Peer,
    DateTimeOffset FirstSeen,
    DateTimeOffset LastSeen,
    DateTimeOffset StateSince,
    long Beats,
    double IntervalSeconds,
    string IntervalSource,
    string ClientStatus,
    string? Message,
    string? Reason,
    int IpChanges,
    int? MissesBeforeDown,
    DateTimeOffset? MaintenanceUntil,
    string? Site,
    string? BootId,
    DateTimeOffset? DuplicateIdentitySeenAt,
    double? ClockSkewSeconds,
    bool ClockOff,
    DateTimeOffset? StartedAt,
    double? LastRunSeconds,
    IReadOnlyList<HostNote> Notes,
    LivenessView Liveness,
    PingBodyView? LastBody,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] UptimeView? Uptime = null);

// How the host is judged, and where each number comes from: "schedule" or "configured" (an admin set it), "declared"
// (the host said so), "learned" (from the gaps between its beats), or "default" (the server's).
internal sealed record LivenessView(
    double IntervalSeconds,
    string IntervalSource,
    double GraceSeconds,
    string GraceSource,
    int Misses,
    string MissesSource,
    string? Schedule,
    string? TimeZone,
    double? ConfiguredIntervalSeconds,
    double? DeclaredIntervalSeconds,
    double? LearnedIntervalSeconds,
    int LearnedFromGaps)
{
    public static LivenessView Of(HostRecord host, HostsOptions options)
    {
        var (interval, source) = Hosts.Liveness.Expected(host, options);
        return new(
            interval.TotalSeconds,
            Name(source),
            Hosts.Liveness.Grace(host, interval).TotalSeconds,
            host.ConfiguredGrace is null ? "default" : "configured",
            Hosts.Liveness.Misses(host, options),
            host.ConfiguredMisses is not null ? "configured" : host.DeclaredMisses is not null ? "declared" : "default",
            host.Schedule,
            host.TimeZone,
            host.ConfiguredInterval?.TotalSeconds,
            host.DeclaredInterval?.TotalSeconds,
            host.LearnedInterval?.TotalSeconds,
            host.Gaps.Count);
    }

    public static string Name(IntervalSource source) => source.ToString().ToLowerInvariant();
}

// Makes HostViews of hosts as they stand now.
internal sealed class HostViews(HostsOptions options, TimeProvider time)
{
    // The host; withBody adds its last ping body (up to 10,000 bytes), left out of lists.
    public HostView From(HostRecord host, bool withBody = false)
    {
        var liveness = LivenessView.Of(host, options);
        return new(
            host.Id, ApiNames.Of(host.State), host.Ip, host.ReportedIp, host.Peer, host.FirstSeen, host.LastSeen, host.StateSince,
            host.Beats, liveness.IntervalSeconds, liveness.IntervalSource,
            host.ClientStatus.ToString().ToLowerInvariant(), host.Message, HostNotes.ReasonOf(host), host.IpChanges, host.DeclaredMisses,
            host.MaintenanceUntil, host.Site, host.BootId, host.DuplicateSeenAt, host.ClockSkew?.TotalSeconds, host.ClockOff(options.ClockSkewWarning),
            host.StartedAt, host.LastRunTime?.TotalSeconds, HostNotes.Of(host, time.GetUtcNow(), time.LocalTimeZone, options), liveness,
            withBody && host.LastBody is { } body ? new PingBodyView(body.At, body.Kind, body.Text, body.Text is not null) : null);
    }
}

// Kept is false for a body the server had no room for (--max-body-memory): then Text is null.
internal sealed record PingBodyView(DateTimeOffset At, string Kind, string? Text, bool Kept);

// One page of the host list. Total is how many hosts the walk lists in all (absent with a search, which does not count
// them); NextCursor fetches the next page, and is absent on the last.
internal sealed record HostPage(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Total,
    int Offset,
    int Limit,
    IReadOnlyDictionary<string, int> Counts,
    IReadOnlyList<HostView> Hosts,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? NextCursor);

internal sealed record EventView(
    long Id,
    DateTimeOffset At,
    string Host,
    string Kind,
    string State,
    string Ip,
    string? PreviousIp,
    DateTimeOffset LastSeen,
    double ExpectedIntervalSeconds,
    string Summary,
    int Changes)
{
    public static EventView From(HostEvent e) => new(
        e.Id, e.At, e.HostId, ApiNames.Of(e.Kind), ApiNames.Of(e.State), e.Ip, e.PreviousIp, e.LastSeen, e.ExpectedInterval.TotalSeconds, e.Summary, e.Changes);
}

internal sealed record AddressChangeView(DateTimeOffset At, string Kind, string? Previous, string? Current, int Changes)
{
    public static AddressChangeView From(AddressChange change) =>
        new(change.At, change.Kind == AddressKind.Reported ? "reported-ip" : "peer", change.Previous, change.Current, change.Changes);
}

// The body of PATCH and PUT /api/v1/hosts/{id}, as the OpenAPI document shows it (the endpoints read it field by field):
// seconds, a count, a 5-field cron expression and an IANA time zone; null clears one.
internal sealed record HostSettingsRequest(double? Interval, double? Grace, int? Misses, string? Schedule, string? Timezone);

internal sealed record HostHistory(string Id, IReadOnlyList<AddressChangeView> AddressChanges, IReadOnlyList<EventView> Events);

internal sealed record ServerView(string Version, DateTimeOffset StartedAt, double UptimeSeconds, long HeartbeatsReceived)
{
    public static ServerView From(ServerStatus status) =>
        new(ServerStatus.Version, status.StartedAt, Math.Round(status.Uptime.TotalSeconds), status.HeartbeatsReceived);
}

internal sealed record StatusView(ServerView Server, HostPage Hosts, IReadOnlyList<EventView> RecentEvents, IReadOnlyList<NotifierView> Notifiers);

// The names states and events have in JSON, on the page and in the query string.
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(HostView))]
[JsonSerializable(typeof(IReadOnlyList<HostView>))]
[JsonSerializable(typeof(HostPage))]
[JsonSerializable(typeof(EventView))]
[JsonSerializable(typeof(HostHistory))]
[JsonSerializable(typeof(StatusView))]
[JsonSerializable(typeof(IReadOnlyList<NotifierView>))]
[JsonSerializable(typeof(TestQueued))]
[JsonSerializable(typeof(HostSettingsRequest))]
[JsonSerializable(typeof(ShieldsBadge))]
[JsonSerializable(typeof(Dictionary<string, string>))] // a form's fields, for the OpenAPI document
internal sealed partial class ApiJsonContext : JsonSerializerContext;
