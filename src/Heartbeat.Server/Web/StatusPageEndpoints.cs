using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Encodings.Web;
using Heartbeat.Protocol;
using Heartbeat.Server.Hosting;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Notify;
using Heartbeat.Server.Security;
using Heartbeat.Server.Storage;

namespace Heartbeat.Server.Web;

// GET / : every host at a glance. Rendered on the server, so it works without JavaScript; status.js then
// keeps it live. With Accept: application/json the same data comes as JSON.
internal static class StatusPageEndpoints
{
    private static readonly HtmlEncoder Html = HtmlEncoder.Default;

    public static IEndpointRouteBuilder MapStatusPage(this IEndpointRouteBuilder app)
    {
        // HEAD is answered by the same handler: Kestrel sends the headers (Content-Length included) and drops the body.
        app.MapMethods("/", [HttpMethods.Get, HttpMethods.Head], async (
            HttpRequest request, ServerStatus status, HostRegistry registry, HostViews views, HostEventFeed feed, Notifiers notifiers, IHostStore store, Tokens tokens, TimeProvider time, string? q) =>
        {
            var hosts = HostQuery.Run(registry, views, state: null, q, cursor: null, offset: 0, HostQuery.DefaultLimit);
            var recent = feed.Recent(20).Select(EventView.From).ToList();
            var view = new StatusView(ServerView.From(status), hosts, recent, await NotifierEndpoints.ReadAsync(notifiers, store, request.HttpContext.RequestAborted));
            if (request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)))
            {
                return Results.Json(view, ApiJsonContext.Default.StatusView);
            }

            return TypedResults.Bytes(Encoding.UTF8.GetBytes(Render(view, status, q, time, LoginEndpoints.SessionControls(request.HttpContext, tokens))), "text/html; charset=utf-8");
        }).RequireAccess().RequireRateLimiting(RateLimits.HostList);

        app.MapGet("/assets/{name}", (string name) => Assets.TryGetValue(name, out var asset)
            ? Results.Bytes(asset.Content, asset.ContentType)
            : Results.NotFound());
        return app;
    }

    private static readonly Dictionary<string, (byte[] Content, string ContentType)> Assets = new(StringComparer.Ordinal)
    {
        ["status.css"] = (ReadAsset("status.css"), "text/css; charset=utf-8"),
        ["status.js"] = (ReadAsset("status.js"), "text/javascript; charset=utf-8"),
    };

    private static byte[] ReadAsset(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"Heartbeat.Server.Web.Assets.{name}")
            ?? throw new InvalidOperationException($"The asset {name} is not embedded in the server.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static string Render(StatusView view, ServerStatus status, string? search, TimeProvider time, string session)
    {
        var (hosts, recent) = (view.Hosts, view.RecentEvents);
        var page = new StringBuilder(4096 + (hosts.Hosts.Count * 400));
        page.Append(CultureInfo.InvariantCulture, $$"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Heartbeat</title>
            <link rel="stylesheet" href="/assets/status.css">
            <script src="/assets/status.js" defer></script>
            </head>
            <body>
            <main>
            <h1>Heartbeat</h1>
            {{session}}
            <div class="summary"><dl>
            <dt>Version</dt><dd>{{Html.Encode(ServerStatus.Version)}}</dd>
            <dt>Started</dt><dd><time datetime="{{status.StartedAt.UtcDateTime:O}}">{{Local(status.StartedAt, time)}}</time></dd>
            <dt>Uptime</dt><dd id="uptime">{{Durations.Format(status.Uptime)}}</dd>
            <dt>Heartbeats received</dt><dd id="beats">{{status.HeartbeatsReceived:N0}}</dd>
            <dt>Hosts</dt><dd id="host-count">{{hosts.Counts.Values.Sum():N0}}</dd>
            </dl></div>
            <div class="counts">
            """);
        foreach (var state in HostIndex.Order)
        {
            var name = ApiNames.Of(state);
            page.Append(CultureInfo.InvariantCulture, $"<span class=\"state state-{name}\">{name} <span data-count=\"{name}\">{hosts.Counts[name]}</span></span>\n");
        }

        page.Append(CultureInfo.InvariantCulture, $"""
            </div>
            <form class="filter" method="get" action="/"><input type="search" name="q" value="{Html.Encode(search ?? string.Empty)}" placeholder="Filter by name or address" aria-label="Filter hosts"> <span id="shown" class="muted">{Html.Encode(Shown(hosts))}</span> <span id="live" class="live"></span></form>
            <table id="hosts">
            <thead><tr><th>Host</th><th>State</th><th>IP</th><th>Peer</th><th>Last seen</th><th>Interval</th><th>IP changes</th><th>Notes</th></tr></thead>
            <tbody>

            """);
        var now = time.GetUtcNow();
        foreach (var host in hosts.Hosts)
        {
            page.Append(CultureInfo.InvariantCulture, $"""
                <tr data-host="{Html.Encode(host.Id)}"><td class="host">{Html.Encode(host.Id)}</td><td class="state state-{host.State}">{host.State}</td><td>{Html.Encode(host.Ip)}</td><td class="muted">{Html.Encode(host.Peer)}</td><td data-last-seen="{host.LastSeen.UtcDateTime:O}" title="{Local(host.LastSeen, time)}">{Durations.Format(now - host.LastSeen)} ago</td><td class="muted">{Durations.Format(TimeSpan.FromSeconds(host.IntervalSeconds))} ({host.IntervalSource})</td><td>{host.IpChanges}</td><td class="notes">{RenderNotes(host)}</td></tr>

                """);
        }

        page.Append("</tbody>\n</table>\n<h2>Recent events</h2>\n<ul id=\"events\">\n");
        foreach (var e in recent)
        {
            page.Append(CultureInfo.InvariantCulture, $"<li><time datetime=\"{e.At.UtcDateTime:O}\">{Local(e.At, time)}</time>{Html.Encode(e.Summary)}</li>\n");
        }

        page.Append("</ul>\n");
        if (view.Notifiers.Count > 0)
        {
            page.Append("<h2>Notifiers</h2>\n<table id=\"notifiers\">\n<thead><tr><th>Target</th><th>Events</th><th>Waiting</th><th>Parked</th><th>Last delivered</th><th>Last error</th></tr></thead>\n<tbody>\n");
            foreach (var n in view.Notifiers)
            {
                var events = n.Events.Count == 0 ? "all" : string.Join(", ", n.Events);
                var delivered = n.LastDelivered is { } at ? Local(at, time) : "never";
                var error = n.LastError is null ? string.Empty : $"{Local(n.LastErrorAt!.Value, time)}: {n.LastError}";
                page.Append(CultureInfo.InvariantCulture, $"<tr><td>{Html.Encode(n.Name)}</td><td>{events}</td><td>{n.Pending}</td><td>{n.Parked}</td><td>{delivered}</td><td>{Html.Encode(error)}</td></tr>\n");
            }

            page.Append("</tbody>\n</table>\n");
        }

        page.Append("</main>\n</body>\n</html>\n");
        return page.ToString();
    }

    // The first page only (trouble first): past it, the API pages through the rest. status.js words it the same way.
    private static string Shown(HostPage hosts) => hosts switch
    {
        { NextCursor: null } => string.Empty,
        { Total: { } total } => string.Create(CultureInfo.InvariantCulture, $"{hosts.Hosts.Count:N0} of {total:N0} shown, {total - hosts.Hosts.Count:N0} more"),
        _ => string.Create(CultureInfo.InvariantCulture, $"first {hosts.Hosts.Count:N0} matches shown, more match"),
    };

    private static string RenderNotes(HostView host) =>
        string.Concat(host.Notes.Select(n => $"<span class=\"note note-{n.Kind}\">{Html.Encode(n.Text)}</span>"));

    private static string Local(DateTimeOffset at, TimeProvider time) => HostNotes.LocalTime(at, time.LocalTimeZone);
}
