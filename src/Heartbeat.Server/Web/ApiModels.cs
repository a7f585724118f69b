using System.Text.Json;
using System.Text.Json.Serialization;
using Heartbeat.Server.Hosting;
using Heartbeat.Server.Hosts;

namespace Heartbeat.Server.Web;

/// <summary>A host as the API shows it. Times are UTC (ISO 8601); durations are in seconds.</summary>
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
    PingBodyView? LastBody);

/// <summary>Makes <see cref="HostView"/>s of hosts as they stand now.</summary>
internal sealed class HostViews(HostsOptions options, TimeProvider time)
{
    /// <summary>The host; <paramref name="withBody"/> adds its last ping body (up to 10,000 bytes), left out of lists.</summary>
    public HostView From(HostRecord host, bool withBody = false)
    {
        var (interval, source) = host.Expected(options.DefaultInterval);
        return new(
            host.Id, ApiNames.Of(host.State), host.Ip, host.ReportedIp, host.Peer, host.FirstSeen, host.LastSeen, host.StateSince,
            host.Beats, interval.TotalSeconds, source.ToString().ToLowerInvariant(),
            host.ClientStatus.ToString().ToLowerInvariant(), host.Message, host.IpChanges, host.DeclaredMisses,
            host.MaintenanceUntil, host.Site, host.BootId, host.DuplicateSeenAt, host.ClockSkew?.TotalSeconds, host.ClockOff(options.ClockSkewWarning),
            host.StartedAt, host.LastRunTime?.TotalSeconds, HostNotes.Of(host, time.GetUtcNow(), time.LocalTimeZone, options),
            withBody && host.LastBody is { } body ? new PingBodyView(body.At, body.Kind, body.Text) : null);
    }
}

internal sealed record PingBodyView(DateTimeOffset At, string Kind, string Text);

internal sealed record HostPage(int Total, int Offset, int Limit, IReadOnlyDictionary<string, int> Counts, IReadOnlyList<HostView> Hosts);

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
    string Summary)
{
    public static EventView From(HostEvent e) => new(
        e.Id, e.At, e.HostId, ApiNames.Of(e.Kind), ApiNames.Of(e.State), e.Ip, e.PreviousIp, e.LastSeen, e.ExpectedInterval.TotalSeconds, e.Summary);
}

internal sealed record AddressChangeView(DateTimeOffset At, string Kind, string? Previous, string? Current)
{
    public static AddressChangeView From(AddressChange change) =>
        new(change.At, change.Kind == AddressKind.Reported ? "reported-ip" : "peer", change.Previous, change.Current);
}

internal sealed record HostHistory(string Id, IReadOnlyList<AddressChangeView> AddressChanges, IReadOnlyList<EventView> Events);

internal sealed record ServerView(string Version, DateTimeOffset StartedAt, double UptimeSeconds, long HeartbeatsReceived)
{
    public static ServerView From(ServerStatus status) =>
        new(ServerStatus.Version, status.StartedAt, Math.Round(status.Uptime.TotalSeconds), status.HeartbeatsReceived);
}

internal sealed record StatusView(ServerView Server, HostPage Hosts, IReadOnlyList<EventView> RecentEvents, IReadOnlyList<NotifierView> Notifiers);

/// <summary>The names states and events have in JSON, on the page and in the query string.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(HostView))]
[JsonSerializable(typeof(HostPage))]
[JsonSerializable(typeof(EventView))]
[JsonSerializable(typeof(HostHistory))]
[JsonSerializable(typeof(StatusView))]
[JsonSerializable(typeof(IReadOnlyList<NotifierView>))]
[JsonSerializable(typeof(TestQueued))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
