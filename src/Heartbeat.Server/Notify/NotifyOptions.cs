using Heartbeat.Server.Settings;

namespace Heartbeat.Server.Notify;

internal sealed record NotifyOptions
{
    public static readonly IReadOnlySet<string> EventNames =
        new HashSet<string>(Enum.GetValues<Hosts.HostEventKind>().Select(Hosts.ApiNames.Of).Append(FlapDamper.EventName)
            .Append(GrowthDamper.NewHostsEvent).Append(GrowthDamper.IpChangesEvent), StringComparer.Ordinal);

    public static readonly IReadOnlyList<Setting<NotifyOptions>> Settings =
    [
        new ListSetting<NotifyOptions, WebhookSpec>(' ')
        {
            Name = "webhook", Variable = "HEARTBEAT_WEBHOOKS", ValueName = "spec",
            Help = "Send alerts to this URL, repeatable: [FORMAT:]URL[#EVENTS], FORMAT one of json (default), slack, mattermost, discord, ntfy, gotify, teams "
                + "(detected from well-known addresses), EVENTS e.g. down,recovered (default: all)",
            Parse = WebhookSpec.TryParse,
            Set = (o, webhooks) => o with { Webhooks = webhooks },
        },
        new ListSetting<NotifyOptions, CommandSpec>('\n')
        {
            Name = "notify-exec", Variable = "HEARTBEAT_NOTIFY_EXEC", ValueName = "command",
            Help = "Run this shell command for each alert, repeatable, optionally ending in #EVENTS: the event in HEARTBEAT_* variables and as JSON on stdin",
            Parse = CommandSpec.TryParse,
            Set = (o, commands) => o with { Commands = commands },
        },
        new ValueSetting<NotifyOptions, int>
        {
            Name = "notify-max-attempts", Variable = "HEARTBEAT_NOTIFY_MAX_ATTEMPTS", ValueName = "count",
            Help = "Delivery attempts per alert before it is parked (shown, no longer retried)",
            Parse = ValueParsers.Int(1, 100, "a number of attempts"),
            Get = o => o.MaxAttempts, Set = (o, attempts) => o with { MaxAttempts = attempts },
        },
    ];

    public IReadOnlyList<WebhookSpec> Webhooks { get; init; } = [];

    public IReadOnlyList<CommandSpec> Commands { get; init; } = [];

    // Attempts before a notification is parked (kept and shown, no longer retried).
    public int MaxAttempts { get; init; } = 10;

    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(30);

    // First retry delay; it doubles per attempt (with ±20% jitter) up to RetryCap: 2 s, 4 s, … 10 min.
    public TimeSpan RetryBase { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan RetryCap { get; init; } = TimeSpan.FromMinutes(10);

    // Downs and recoveries of one host within FlapWindow beyond which it counts as flapping.
    public int FlapThreshold { get; init; } = 4;

    public TimeSpan FlapWindow { get; init; } = TimeSpan.FromMinutes(15);

    // Deliveries in flight to one target at once: enough to drain a backlog, few enough not to trip its rate limits.
    public int ConcurrencyPerTarget { get; init; } = 4;

    // How long a command may go on after its timeout before it counts as failed: time to kill it and its children.
    public static readonly TimeSpan CommandKillGrace = TimeSpan.FromSeconds(5);

    // The longest one delivery attempt may take, whatever its target.
    public TimeSpan LongestAttempt => Commands.Count > 0 && CommandTimeout + CommandKillGrace > AttemptTimeout ? CommandTimeout + CommandKillGrace : AttemptTimeout;
}
