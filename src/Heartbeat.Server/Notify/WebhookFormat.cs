using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Heartbeat.Server.Notify;

internal enum WebhookFormat
{
    // The generic JSON notification.
    Json,

    // Slack and Mattermost incoming webhooks: {"text": …}.
    Slack,

    // Discord webhooks: {"content": …}, with mentions disabled.
    Discord,

    // ntfy: the text as the body, title, priority and tags as headers.
    Ntfy,

    // Gotify's POST /message: {"title", "message", "priority"}.
    Gotify,

    // Microsoft Teams workflows (and other Adaptive Card receivers): a message with one card.
    Teams,
}

// Turns a notification into the request each service documents for its incoming webhooks.
internal static class WebhookRequests
{
    public static HttpRequestMessage Create(WebhookFormat format, Uri url, Notification notification)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = Body(format, notification) };
        request.Headers.Add("Idempotency-Key", notification.EventId);
        if (format == WebhookFormat.Ntfy)
        {
            request.Headers.Add("Title", Title(notification));
            request.Headers.Add("Priority", IsUrgent(notification) ? "high" : "default");
            request.Headers.Add("Tags", Tag(notification));
        }

        return request;
    }

    // A short title: the host and what happened to it (host names are plain ASCII by the wire format).
    public static string Title(Notification n) => n.Event switch
    {
        "down" => $"{n.Host} is down",
        "recovered" => $"{n.Host} recovered",
        "ip-changed" => $"{n.Host} changed IP",
        "failing" => $"{n.Host} is failing",
        "new" => $"New host {n.Host}",
        GrowthDamper.NewHostsEvent => "New hosts",
        GrowthDamper.IpChangesEvent => "IP changes",
        "site-down" => $"Site {n.Host} is down",
        "site-recovered" => $"Site {n.Host} recovered",
        "maintenance" => $"{n.Host} maintenance",
        "rebooted" => $"{n.Host} rebooted",
        "duplicate-identity" => $"Two machines beat as {n.Host}",
        "clock-skew" => $"{n.Host}'s clock is off",
        "test" => "Heartbeat test",
        _ => $"{n.Host}: {n.Event}",
    };

    private static bool IsUrgent(Notification n) => n.Event is "down" or "failing" or "site-down";

    private static ByteArrayContent Body(WebhookFormat format, Notification n) => format switch
    {
        WebhookFormat.Slack => Json(new SlackMessage($"*{Escape(Title(n))}*\n{Escape(n.Summary)}"), NotifyJsonContext.Default.SlackMessage),
        WebhookFormat.Discord => Json(new DiscordMessage($"**{Title(n)}**\n{n.Summary}", new DiscordMentions([])), NotifyJsonContext.Default.DiscordMessage),
        WebhookFormat.Ntfy => new StringContent(n.Summary, Encoding.UTF8, new MediaTypeHeaderValue("text/plain")),
        WebhookFormat.Gotify => Json(new GotifyMessage(Title(n), n.Summary, IsUrgent(n) ? 8 : 4), NotifyJsonContext.Default.GotifyMessage),
        WebhookFormat.Teams => Json(TeamsMessage.For(Title(n), n.Summary), NotifyJsonContext.Default.TeamsMessage),
        _ => Json(n, NotifyJsonContext.Default.Notification),
    };

    private static ByteArrayContent Json<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(value, type));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return content;
    }

    // Slack's documented escaping: its markup uses these three characters.
    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal)
        .Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    private static string Tag(Notification n) => n.Event switch
    {
        "down" or "site-down" => "rotating_light",
        "recovered" or "site-recovered" => "white_check_mark",
        "failing" => "warning",
        "ip-changed" or GrowthDamper.IpChangesEvent => "globe_with_meridians",
        _ => "information_source",
    };
}

internal sealed record SlackMessage(string Text);

internal sealed record DiscordMessage(string Content, [property: JsonPropertyName("allowed_mentions")] DiscordMentions AllowedMentions);

// An empty parse list: nothing a client wrote (say "@everyone" in a note) can ping anyone.
internal sealed record DiscordMentions(IReadOnlyList<string> Parse);

internal sealed record GotifyMessage(string Title, string Message, int Priority);

internal sealed record TeamsMessage(string Type, IReadOnlyList<TeamsAttachment> Attachments)
{
    public static TeamsMessage For(string title, string text) => new("message",
    [
        new TeamsAttachment("application/vnd.microsoft.card.adaptive", new AdaptiveCard(
            "http://adaptivecards.io/schemas/adaptive-card.json", "AdaptiveCard", "1.4",
            [new AdaptiveTextBlock("TextBlock", title, "Bolder", Wrap: true), new AdaptiveTextBlock("TextBlock", text, null, Wrap: true)])),
    ]);
}

internal sealed record TeamsAttachment(string ContentType, AdaptiveCard Content);

internal sealed record AdaptiveCard(
    [property: JsonPropertyName("$schema")] string Schema, string Type, string Version, IReadOnlyList<AdaptiveTextBlock> Body);

internal sealed record AdaptiveTextBlock(
    string Type, string Text, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Weight, bool Wrap);
