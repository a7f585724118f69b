namespace Heartbeat.Server.Notify;

internal sealed record NotifyOptions
{
    public static readonly IReadOnlySet<string> EventNames =
        new HashSet<string>(Enum.GetValues<Hosts.HostEventKind>().Select(Hosts.ApiNames.Of).Append(FlapDamper.EventName)
            .Append(GrowthDamper.NewHostsEvent).Append(GrowthDamper.IpChangesEvent), StringComparer.Ordinal);

    /// <summary>Webhooks as <c>[FORMAT:]URL[#EVENTS]</c>, e.g. <c>ntfy:https://ntfy.sh/alerts#down,recovered</c>.</summary>
    public IReadOnlyList<string> Webhooks { get; init; } = [];

    /// <summary>Commands run for each notification, each optionally ending in <c>#EVENTS</c> (a shell comment, too).</summary>
    public IReadOnlyList<string> Commands { get; init; } = [];

    /// <summary>Attempts before a notification is parked (kept and shown, no longer retried).</summary>
    public int MaxAttempts { get; init; } = 10;

    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>First retry delay; it doubles per attempt (with ±20% jitter) up to <see cref="RetryCap"/>: 2 s, 4 s, … 10 min.</summary>
    public TimeSpan RetryBase { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan RetryCap { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Downs and recoveries of one host within <see cref="FlapWindow"/> beyond which it counts as flapping.</summary>
    public int FlapThreshold { get; init; } = 4;

    public TimeSpan FlapWindow { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Deliveries in flight to one target at once: enough to drain a backlog, few enough not to trip its rate limits.</summary>
    public int ConcurrencyPerTarget { get; init; } = 4;

    /// <summary>How long a command may go on after its timeout before it counts as failed: time to kill it and its children.</summary>
    public static readonly TimeSpan CommandKillGrace = TimeSpan.FromSeconds(5);

    /// <summary>The longest one delivery attempt may take, whatever its target.</summary>
    public TimeSpan LongestAttempt => Commands.Count > 0 && CommandTimeout + CommandKillGrace > AttemptTimeout ? CommandTimeout + CommandKillGrace : AttemptTimeout;
}

/// <summary>Reads the target specifications of <see cref="NotifyOptions"/>.</summary>
internal static class TargetSpec
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

    public static bool TryParseWebhook(string text, out Uri url, out WebhookFormat format, out IReadOnlySet<string> events, out string error)
    {
        url = null!;
        format = WebhookFormat.Json;
        var rest = SplitEvents(text.Trim(), out events, out error);
        if (rest is null)
        {
            return false;
        }

        var colon = rest.IndexOf(':', StringComparison.Ordinal);
        var explicitFormat = colon > 0 && Prefixes.TryGetValue(rest[..colon], out var prefixed) ? prefixed : (WebhookFormat?)null;
        var address = explicitFormat is null ? rest : rest[(colon + 1)..];
        if (!Uri.TryCreate(address, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https"))
        {
            error = $"'{Redact(address)}' is not an http(s) URL; use [FORMAT:]URL[#EVENTS] with FORMAT one of {string.Join(", ", Prefixes.Keys)}";
            return false;
        }

        url = parsed;
        format = explicitFormat ?? Detect(parsed);
        return true;
    }

    public static bool TryParseCommand(string text, out string command, out IReadOnlySet<string> events, out string error)
    {
        command = SplitEvents(text.Trim(), out events, out error) ?? string.Empty;
        if (error.Length == 0 && command.Length == 0)
        {
            error = "the command is empty";
        }

        return error.Length == 0;
    }

    /// <summary>The well-known services are recognised by their address; anything else gets the generic JSON.</summary>
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

    /// <summary>Takes a trailing <c>#down,recovered</c> off; returns the rest, or null when the list names unknown events.</summary>
    private static string? SplitEvents(string text, out IReadOnlySet<string> events, out string error)
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

    private static string Redact(string address) => Uri.TryCreate(address, UriKind.Absolute, out var url) ? $"{url.Scheme}://{url.Authority}/…" : address;
}
