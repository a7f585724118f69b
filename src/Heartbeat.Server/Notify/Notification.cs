using System.Text.Json;
using System.Text.Json.Serialization;
using Heartbeat.Server.Hosts;

namespace Heartbeat.Server.Notify;

// What a notifier is told, in the generic JSON format; the chat and push formats are rendered from it.
// EventId doubles as the idempotency key receivers can de-duplicate on.
internal sealed record Notification(
    string EventId,
    string Event,
    string Host,
    string State,
    string Ip,
    string? PreviousIp,
    DateTimeOffset LastSeen,
    double ExpectedIntervalSeconds,
    DateTimeOffset ServerTime,
    string Summary)
{
    public static Notification From(HostEvent e, DateTimeOffset now) => new(
        e.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), ApiNames.Of(e.Kind), e.HostId, ApiNames.Of(e.State), e.Ip,
        e.PreviousIp, e.LastSeen, e.ExpectedInterval.TotalSeconds, now, e.Summary);

    // The notification POST /api/v1/notifiers/test sends, so a user can see a real alert arrive.
    public static Notification Test(DateTimeOffset now) => new(
        $"test-{now.ToUnixTimeMilliseconds()}", "test", "heartbeat-server", "up", "-", null, now, 0, now,
        "Test notification from heartbeat-server: alerts reach this target.");

    public string ToJson() => JsonSerializer.Serialize(this, NotifyJsonContext.Default.Notification);

    public static Notification FromJson(string json) =>
        JsonSerializer.Deserialize(json, NotifyJsonContext.Default.Notification) ?? throw new JsonException("Empty notification.");
}

// A notification bound for one target, not yet in the outbox.
internal sealed record PendingNotification(string Target, Notification Notification);

// One notification for one target, as the outbox keeps it until it is delivered or parked.
internal sealed record OutboxEntry(long Id, string Target, Notification Notification, int Attempts);

// The result of one attempt: delivered, to be retried at NextAttempt, or parked (neither).
internal sealed record DeliveryOutcome(long Id, bool Delivered, int Attempts, DateTimeOffset At, DateTimeOffset? NextAttempt, string? Error);

internal sealed record NotifierStats(
    string Target, int Pending, int Parked, int Delivered, DateTimeOffset? LastDelivered, string? LastError, DateTimeOffset? LastErrorAt);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(Notification))]
[JsonSerializable(typeof(SlackMessage))]
[JsonSerializable(typeof(DiscordMessage))]
[JsonSerializable(typeof(GotifyMessage))]
[JsonSerializable(typeof(TeamsMessage))]
internal sealed partial class NotifyJsonContext : JsonSerializerContext;
