using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using Heartbeat.Protocol;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Security;

namespace Heartbeat.Server.Web;

// Everything the host page shows, read once per request.
internal sealed record HostPageModel(
    HostView Host,
    StateHistory History,
    IReadOnlyList<AddressChangeView> Addresses,
    IReadOnlyList<EventView> Events,
    int Notifiers,
    bool Admin,
    bool ConfirmForget,
    string? Flash,
    string? Error);

// GET /hosts/{id} as HTML: rendered on the server, every value encoded; host.js only keeps the "ago"s current.
internal static class HostPageView
{
    public const int StripSlots = 48;

    private static readonly HtmlEncoder Html = HtmlEncoder.Default;

    private static readonly (string Outcome, string Label)[] Legend =
        [("on-time", "on time"), ("late", "late"), ("missed", "missed (down)"), ("failed", "failed"), ("maintenance", "maintenance"), ("unknown", "not known")];

    public static string Render(HostPageModel model, HttpContext context, string session, TimeProvider time)
    {
        var host = model.Host;
        var now = time.GetUtcNow();
        var path = $"/hosts/{Html.Encode(Uri.EscapeDataString(host.Id))}";
        var page = new StringBuilder(16_384);
        Head(page, host.Id, session, down: host.State == ApiNames.Of(HostState.Down));
        page.Append(CultureInfo.InvariantCulture, $"""
            <h1 class="host-id">{PageHtml.BreakableName(host.Id)}</h1>
            <p class="host-state"><span id="state" class="state state-{host.State}">{host.State}</span> since {Time(host.StateSince, time)} (<span data-since="{host.StateSince.UtcDateTime:O}">{Durations.Format(now - host.StateSince)}</span>)</p>

            """);
        Messages(page, model);
        page.Append(CultureInfo.InvariantCulture, $"<div class=\"notes\">{string.Concat(host.Notes.Select(n => $"<span class=\"note note-{n.Kind}\">{Html.Encode(n.Text)}</span>"))}</div>\n");
        Uptime(page, model.History, now);
        Strip(page, model.History, now, TimeSpan.FromSeconds(Math.Max(1, host.IntervalSeconds)), time);
        LastWords(page, host, time);
        Addresses(page, model, time);
        Liveness(page, host.Liveness);
        Events(page, model.Events, time);
        if (model.Admin)
        {
            Actions(page, model, path, context);
        }

        page.Append("</main>\n</body>\n</html>\n");
        return page.ToString();
    }

    // The page of a host nobody knows (or one just forgotten): 404.
    public static string RenderMissing(string id, string session, string? flash)
    {
        var page = new StringBuilder(1024);
        Head(page, id, session);
        page.Append(CultureInfo.InvariantCulture, $"<h1 class=\"host-id\">{PageHtml.BreakableName(id)}</h1>\n");
        page.Append(flash is null
            ? "<p class=\"error\">No host is known by this name. It has not beaten yet, or it was forgotten.</p>\n"
            : $"<p class=\"flash\" role=\"status\">{Html.Encode(flash)}</p>\n");
        page.Append("</main>\n</body>\n</html>\n");
        return page.ToString();
    }

    private static void Head(StringBuilder page, string id, string session, bool down = false) => page.Append(CultureInfo.InvariantCulture, $"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{Html.Encode(id)} - Heartbeat</title>
        <link rel="icon" type="image/svg+xml" href="{PageHtml.FaviconOf(down ? 1 : 0)}">
        <link rel="stylesheet" href="/assets/status.css">
        <link rel="stylesheet" href="/assets/host.css">
        <script src="/assets/host.js" defer></script>
        </head>
        <body>
        <main class="host-page">
        <nav class="crumbs"><a href="/">All hosts</a></nav>
        {session}

        """);

    private static void Messages(StringBuilder page, HostPageModel model)
    {
        if (model.Flash is { } flash)
        {
            page.Append(CultureInfo.InvariantCulture, $"<p class=\"flash\" role=\"status\">{Html.Encode(flash)}</p>\n");
        }

        if (model.Error is { } error)
        {
            page.Append(CultureInfo.InvariantCulture, $"<p class=\"error\" role=\"alert\">{Html.Encode(error)}</p>\n");
        }
    }

    private static void Uptime(StringBuilder page, StateHistory history, DateTimeOffset now)
    {
        page.Append("<h2>Uptime</h2>\n<dl class=\"uptime\">\n");
        foreach (var (name, length) in HostUptime.Windows)
        {
            var figure = HostUptime.Over(history, now, length);
            var share = figure.Share is { } s ? s.ToString("0.##%", CultureInfo.InvariantCulture) : "-";
            var partial = figure.Share is not null && history.KnownFrom > now - length
                ? $" <span class=\"muted\">of {Durations.Format(figure.Counted)} known</span>"
                : string.Empty;
            page.Append(CultureInfo.InvariantCulture, $"<div><dt>{name}</dt><dd data-uptime=\"{name}\">{share}{partial}</dd></div>\n");
        }

        page.Append("</dl>\n<p class=\"muted small\">Up and late count as up, down and failing as down; maintenance, pending and time before the oldest stored event count as neither.</p>\n");
    }

    private static void Strip(StringBuilder page, StateHistory history, DateTimeOffset now, TimeSpan slot, TimeProvider time)
    {
        page.Append(CultureInfo.InvariantCulture, $"<h2>Last {StripSlots} intervals <span class=\"muted small\">({Durations.Format(slot)} each, oldest first)</span></h2>\n<div class=\"strip\" id=\"strip\">");
        foreach (var s in HostUptime.Strip(history, now, slot, StripSlots))
        {
            page.Append(CultureInfo.InvariantCulture, $"<span class=\"slot slot-{s.Outcome}\" title=\"{Local(s.From, time)}: {s.Outcome}\"></span>");
        }

        page.Append("</div>\n<p class=\"legend small\">");
        foreach (var (outcome, label) in Legend)
        {
            page.Append(CultureInfo.InvariantCulture, $"<span><span class=\"slot slot-{outcome}\"></span>{label}</span> ");
        }

        page.Append("</p>\n");
    }

    private static void LastWords(StringBuilder page, HostView host, TimeProvider time)
    {
        page.Append(CultureInfo.InvariantCulture, $"""
            <h2>Last beat</h2>
            <dl class="facts">
            <dt>Last seen</dt><dd>{Time(host.LastSeen, time)}</dd>
            <dt>Client status</dt><dd>{Html.Encode(host.ClientStatus)}</dd>
            <dt>Message</dt><dd id="message">{Html.Encode(host.Message ?? "-")}</dd>
            <dt>Beats</dt><dd>{host.Beats:N0} since {Time(host.FirstSeen, time)}</dd>
            <dt>Boot</dt><dd>{Html.Encode(host.BootId ?? "-")}</dd>
            <dt>Clock</dt><dd>{(host.ClockSkewSeconds is { } skew ? $"{skew:+0.#;-0.#;0} s against the server's{(host.ClockOff ? " (off)" : string.Empty)}" : "-")}</dd>
            <dt>Site</dt><dd>{Html.Encode(host.Site ?? "-")}</dd>
            <dt>Maintenance</dt><dd>{(host.MaintenanceUntil is { } until && until > time.GetUtcNow() ? $"until {Time(until, time)}" : "none")}</dd>
            </dl>

            """);
        if (host.LastBody is { } body)
        {
            page.Append(CultureInfo.InvariantCulture, $"<h3>Last ping body <span class=\"muted small\">({Html.Encode(body.Kind)}, {Time(body.At, time)})</span></h3>\n");
            page.Append(body.Text is { } text
                ? $"<pre id=\"body\">{Html.Encode(text)}</pre>\n"
                : "<p class=\"muted\">Not kept: the server had no room for it (--max-body-memory).</p>\n");
        }
    }

    private static void Addresses(StringBuilder page, HostPageModel model, TimeProvider time)
    {
        var host = model.Host;
        page.Append(CultureInfo.InvariantCulture, $"""
            <h2>Addresses</h2>
            <dl class="facts">
            <dt>Reported IP</dt><dd id="reported-ip">{Html.Encode(host.ReportedIp ?? "-")}</dd>
            <dt>Peer</dt><dd id="peer">{Html.Encode(host.Peer)}</dd>
            <dt>IP changes</dt><dd>{host.IpChanges}</dd>
            </dl>

            """);
        if (model.Addresses.Count == 0)
        {
            return;
        }

        page.Append("<table id=\"addresses\">\n<thead><tr><th>When</th><th>Which</th><th>From</th><th>To</th></tr></thead>\n<tbody>\n");
        foreach (var a in model.Addresses)
        {
            page.Append(CultureInfo.InvariantCulture, $"<tr><td>{Time(a.At, time)}</td><td>{a.Kind}</td><td>{Html.Encode(a.Previous ?? "-")}</td><td>{Html.Encode(a.Current ?? "-")}{Changes(a.Changes)}</td></tr>\n");
        }

        page.Append("</tbody>\n</table>\n");
    }

    // Changes made between two flushes of the store are kept as one, from the first address to the last.
    private static string Changes(int changes) =>
        changes > 1 ? string.Create(CultureInfo.InvariantCulture, $" <span class=\"muted\">({changes} changes)</span>") : string.Empty;

    private static void Liveness(StringBuilder page, LivenessView l)
    {
        page.Append(CultureInfo.InvariantCulture, $"""
            <h2>Liveness</h2>
            <dl class="facts" id="liveness">
            <dt>Interval</dt><dd data-setting="interval">{Durations.Format(TimeSpan.FromSeconds(l.IntervalSeconds))} ({l.IntervalSource})</dd>
            <dt>Grace</dt><dd data-setting="grace">{Durations.Format(TimeSpan.FromSeconds(l.GraceSeconds))} ({l.GraceSource})</dd>
            <dt>Misses before down</dt><dd data-setting="misses">{l.Misses} ({l.MissesSource})</dd>
            <dt>Schedule</dt><dd data-setting="schedule">{Html.Encode(l.Schedule is null ? "none" : $"{l.Schedule} ({l.TimeZone ?? "UTC"})")}</dd>
            <dt>Declared</dt><dd>{Seconds(l.DeclaredIntervalSeconds)}</dd>
            <dt>Learned</dt><dd>{Seconds(l.LearnedIntervalSeconds)} (from {l.LearnedFromGaps} gaps)</dd>
            </dl>

            """);
    }

    private static void Events(StringBuilder page, IReadOnlyList<EventView> events, TimeProvider time)
    {
        page.Append("<h2>Events</h2>\n<ul id=\"events\">\n");
        foreach (var e in events)
        {
            page.Append(CultureInfo.InvariantCulture, $"<li class=\"event-{e.Kind}\">{Time(e.At, time)}{Html.Encode(e.Summary)}</li>\n");
        }

        page.Append(events.Count == 0 ? "<li class=\"muted\">None stored.</li>\n</ul>\n" : "</ul>\n");
    }

    private static void Actions(StringBuilder page, HostPageModel model, string path, HttpContext context)
    {
        var host = model.Host;
        var l = host.Liveness;
        var token = PageForms.AntiforgeryField(context);
        page.Append(CultureInfo.InvariantCulture, $"<h2>Actions</h2>\n<div class=\"actions\">\n");
        page.Append(host.MaintenanceUntil is not null
            ? $"<form method=\"post\" action=\"{path}/maintenance/end\" id=\"end-maintenance\">{token}<button type=\"submit\">End maintenance</button></form>\n"
            : string.Empty);
        page.Append(CultureInfo.InvariantCulture, $"""
            <form method="post" action="{path}/maintenance" id="start-maintenance">{token}<label>Maintenance for <input name="for" value="1h" size="5" required aria-label="Maintenance window, such as 30m or 2h"></label> <button type="submit">Start maintenance</button></form>
            <form method="post" action="{path}/settings" id="settings" class="settings">{token}
            <label>Interval <input name="interval" value="{Setting(l.ConfiguredIntervalSeconds)}" placeholder="{Durations.Format(TimeSpan.FromSeconds(l.IntervalSeconds))}"></label>
            <label>Grace <input name="grace" value="{(l.GraceSource == "configured" ? Setting(l.GraceSeconds) : string.Empty)}" placeholder="{Durations.Format(TimeSpan.FromSeconds(l.GraceSeconds))}"></label>
            <label>Misses <input name="misses" value="{(l.MissesSource == "configured" ? l.Misses.ToString(CultureInfo.InvariantCulture) : string.Empty)}" placeholder="{l.Misses}" inputmode="numeric"></label>
            <label>Schedule <input name="schedule" value="{Html.Encode(l.Schedule ?? string.Empty)}" placeholder="cron, such as 30 2 * * *"></label>
            <label>Time zone <input name="timezone" value="{Html.Encode(l.TimeZone ?? string.Empty)}" placeholder="UTC"></label>
            <button type="submit">Save settings</button>
            <p class="muted small">Durations such as 90, 5m or 2h. An empty field falls back to what the host declares, what the server learns, or the default.</p>
            </form>

            """);
        page.Append(model.Notifiers > 0
            ? $"<form method=\"post\" action=\"{path}/test-notification\" id=\"test-notification\">{token}<button type=\"submit\">Send a test notification</button> <span class=\"muted small\">to {model.Notifiers} notifier(s)</span></form>\n"
            : "<p class=\"muted small\" id=\"test-notification\">No notifier is configured (--webhook, --notify-exec), so there is nothing to test.</p>\n");
        page.Append(model.ConfirmForget
            ? $"""
                <form method="post" action="{path}/forget" id="forget" class="confirm">{token}<p>Forget <strong>{Html.Encode(host.Id)}</strong> and its history? If it beats again it comes back as a new host.</p><button type="submit" class="danger">Forget it</button> <a href="{path}">Cancel</a></form>

                """
            : $"<p><a class=\"button danger\" id=\"forget-start\" href=\"{path}?confirm=forget\">Forget this host…</a></p>\n");
        page.Append("</div>\n");
    }

    // A configured duration as the form takes it back: one unit, since "5m 30s" would not parse.
    private static string Setting(double? seconds) => seconds switch
    {
        null => string.Empty,
        { } s when s % 86_400 == 0 => string.Create(CultureInfo.InvariantCulture, $"{s / 86_400}d"),
        { } s when s % 3600 == 0 => string.Create(CultureInfo.InvariantCulture, $"{s / 3600}h"),
        { } s when s % 60 == 0 => string.Create(CultureInfo.InvariantCulture, $"{s / 60}m"),
        { } s => string.Create(CultureInfo.InvariantCulture, $"{s}s"),
    };

    // A long name wraps after its dots and dashes on a narrow screen, not in the middle of a word.
    private static string Seconds(double? seconds) => seconds is { } s ? Durations.Format(TimeSpan.FromSeconds(s)) : "-";

    private static string Time(DateTimeOffset at, TimeProvider time) =>
        string.Create(CultureInfo.InvariantCulture, $"<time datetime=\"{at.UtcDateTime:O}\">{Local(at, time)}</time>");

    private static string Local(DateTimeOffset at, TimeProvider time) => HostNotes.LocalTime(at, time.LocalTimeZone);
}
