using System.Diagnostics.CodeAnalysis;

namespace Heartbeat.Server.Notify;

// A webhook as given: [FORMAT:]URL[#EVENTS], e.g. ntfy:https://ntfy.sh/alerts#down,recovered;
// no events means all of them.
internal sealed record WebhookSpec(Uri Url, WebhookFormat Format, IReadOnlySet<string> Events)
{
    private static readonly Dictionary<string, WebhookFormat> Prefixes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["json"] = WebhookFormat.Json,
        ["slack"] = WebhookFormat.Slack,
        ["mattermost"] = WebhookFormat.Slack,
        ["discord"] = WebhookFormat.Discord,
        ["ntfy"] = WebhookFormat.Ntfy,
        ["gotify"] = WebhookFormat.Gotify,
        ["teams"] = WebhookFormat.Teams,
    };

    public static WebhookSpec Parse(string text) => TryParse(text, out var spec, out var error) ? spec : throw new FormatException(error);

    public static bool TryParse(string text, [MaybeNullWhen(false)] out WebhookSpec spec, out string error)
    {
        spec = null;
        var rest = EventList.Split(text.Trim(), out var events, out error);
        if (rest is null)
        {
            return false;
        }

        var colon = rest.IndexOf(':', StringComparison.Ordinal);
        var explicitFormat = colon > 0 && Prefixes.TryGetValue(rest[..colon], out var prefixed) ? prefixed : (WebhookFormat?)null;
        var address = explicitFormat is null ? rest : rest[(colon + 1)..];
        if (!Uri.TryCreate(address, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            error = $"'{Redact(address)}' is not an http(s) URL; use [FORMAT:]URL[#EVENTS] with FORMAT one of {string.Join(", ", Prefixes.Keys)}";
            return false;
        }

        spec = new WebhookSpec(url, explicitFormat ?? Detect(url), events);
        return true;
    }

    // The well-known services are recognised by their address; anything else gets the generic JSON.
    private static WebhookFormat Detect(Uri url) => url.Host switch
    {
        "hooks.slack.com" => WebhookFormat.Slack,
        "discord.com" or "discordapp.com" => WebhookFormat.Discord,
        "ntfy.sh" => WebhookFormat.Ntfy,
        var host when host.EndsWith(".webhook.office.com", StringComparison.OrdinalIgnoreCase)
            || host.EndsWith(".logic.azure.com", StringComparison.OrdinalIgnoreCase) => WebhookFormat.Teams,
        _ when url.AbsolutePath.EndsWith("/message", StringComparison.Ordinal) && url.Query.Contains("token=", StringComparison.Ordinal) => WebhookFormat.Gotify,
        _ => WebhookFormat.Json,
    };

    private static string Redact(string address) => Uri.TryCreate(address, UriKind.Absolute, out var url) ? $"{url.Scheme}://{url.Authority}/…" : address;
}

// A command run for each notification, optionally ending in #EVENTS (a shell comment, too); no events means all.
internal sealed record CommandSpec(string Command, IReadOnlySet<string> Events)
{
    public static CommandSpec Parse(string text) => TryParse(text, out var spec, out var error) ? spec : throw new FormatException(error);

    public static bool TryParse(string text, [MaybeNullWhen(false)] out CommandSpec spec, out string error)
    {
        var command = EventList.Split(text.Trim(), out var events, out error) ?? string.Empty;
        if (error.Length == 0 && command.Length == 0)
        {
            error = "the command is empty";
        }

        spec = error.Length == 0 ? new CommandSpec(command, events) : null;
        return spec is not null;
    }
}

file static class EventList
{
    // Takes a trailing #down,recovered off; returns the rest, or null when the list names unknown events.
    public static string? Split(string text, out IReadOnlySet<string> events, out string error)
    {
        events = new HashSet<string>();
        error = string.Empty;
        var hash = text.LastIndexOf('#');
        if (hash < 0)
        {
            return text;
        }

        var names = text[(hash + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var unknown = names.Where(n => !NotifyOptions.EventNames.Contains(n)).ToList();
        if (names.Length == 0 || unknown.Count > 0)
        {
            error = $"'#{string.Join(',', unknown)}' names no event; events are {string.Join(", ", NotifyOptions.EventNames)}";
            return null;
        }

        events = names.ToHashSet(StringComparer.Ordinal);
        return text[..hash].TrimEnd();
    }
}
