using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Encodings.Web;
using Heartbeat.Protocol;
using Heartbeat.Server.ApiDocs;
using Heartbeat.Server.Diagnostics;
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
            HttpRequest request, ServerStatus status, HostRegistry registry, HostViews views, HostEventFeed feed, Notifiers notifiers, IHostStore store, Tokens tokens, TimeProvider time,
            string? state, string? q, string? group, string? cursor) =>
        {
            var filter = new ListFilter(state, q, group, cursor);
            if (filter.Problem() is { } problem)
            {
                return problem;
            }

            var hosts = HostQuery.Run(registry, views, filter.State, q, filter.Groups, filter.Cursor, offset: 0, HostQuery.PageLimit);
            var recent = feed.Recent(20).Select(EventView.From).ToList();
            var view = new StatusView(ServerView.From(status), hosts, recent, await NotifierEndpoints.ReadAsync(notifiers, store, request.HttpContext.RequestAborted));
            if (request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)))
            {
                return Results.Json(view, ApiJsonContext.Default.StatusView);
            }

            return TypedResults.Bytes(Encoding.UTF8.GetBytes(Render(view, status, filter, time, LoginEndpoints.SessionControls(request.HttpContext, tokens))), "text/html; charset=utf-8");
        }).RequireAccess().RequireRateLimiting(RateLimits.HostList)
            .WithName("StatusPage").WithTags(ApiDocument.Pages).WithSummary("The status page; with Accept: application/json its data")
            .Produces<string>(StatusCodes.Status200OK, "text/html").Produces<StatusView>(StatusCodes.Status200OK, "application/json").ProducesProblem(400);

        app.MapGet("/assets/{name}", (string name) => Assets.TryGetValue(name, out var asset)
            ? Results.Bytes(asset.Content, asset.ContentType)
            : Results.NotFound())
            .WithName("Asset").WithTags(ApiDocument.Pages).WithSummary("The pages' style sheets, scripts and icons")
            .WithMetadata(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(string), ["text/css", "text/javascript", "image/svg+xml"])).ProducesProblem(404);
        return app;
    }

    private static readonly Dictionary<string, (byte[] Content, string ContentType)> Assets = new(StringComparer.Ordinal)
    {
        ["status.css"] = (ReadAsset("status.css"), "text/css; charset=utf-8"),
        ["status.js"] = (ReadAsset("status.js"), "text/javascript; charset=utf-8"),
        ["host.css"] = (ReadAsset("host.css"), "text/css; charset=utf-8"),
        ["host.js"] = (ReadAsset("host.js"), "text/javascript; charset=utf-8"),
        ["favicon.svg"] = (ReadAsset("favicon.svg"), "image/svg+xml"),
        ["favicon-down.svg"] = (ReadAsset("favicon-down.svg"), "image/svg+xml"),
    };

    private static byte[] ReadAsset(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"Heartbeat.Server.Web.Assets.{name}")
            ?? throw new InvalidOperationException($"The asset {name} is not embedded in the server.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static string Render(StatusView view, ServerStatus status, ListFilter filter, TimeProvider time, string session)
    {
        var (hosts, recent) = (view.Hosts, view.RecentEvents);
        var page = new StringBuilder(4096 + (hosts.Hosts.Count * 600));
        page.Append(PageHtml.Head("Heartbeat", hosts.Counts[ApiNames.Of(HostState.Down)], script: true));
        page.Append(CultureInfo.InvariantCulture, $$"""

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
            page.Append(CultureInfo.InvariantCulture, $"<a class=\"state state-{name}\" href=\"{Html.Encode(PageHtml.ListLink("/", [("state", name)]))}\">{name} <span data-count=\"{name}\">{hosts.Counts[name]}</span></a>\n");
        }

        page.Append(CultureInfo.InvariantCulture, $"""
            </div>
            <form class="filter" method="get" action="/">
            <input type="search" name="q" value="{Html.Encode(filter.Search ?? string.Empty)}" placeholder="Name or address" aria-label="Filter by name or address">
            <select name="state" aria-label="Filter by state"><option value="">every state</option>{StateOptions(filter.State)}</select>
            <input type="search" name="group" value="{Html.Encode(filter.Group ?? string.Empty)}" placeholder="Group" aria-label="Filter by group" class="group">
            <button type="submit">Filter</button>
            <span id="shown" class="muted">{Html.Encode(Shown(hosts))}</span> <span id="live" class="live"></span>
            </form>
            <table id="hosts" class="cards">
            <thead><tr><th>Host</th><th>State</th><th>IP</th><th>Peer</th><th>Last seen</th><th>Interval</th><th>IP changes</th><th>Notes</th></tr></thead>
            <tbody>

            """);
        var now = time.GetUtcNow();
        foreach (var host in hosts.Hosts)
        {
            var reason = host.Reason is null ? string.Empty : $"<div class=\"reason\">{Html.Encode(host.Reason)}</div>";
            page.Append(CultureInfo.InvariantCulture, $"""
                <tr data-host="{Html.Encode(host.Id)}"><td class="host"><a href="{Html.Encode(PageHtml.HostLink(host.Id))}">{PageHtml.BreakableName(host.Id)}</a>{reason}</td><td class="state state-{host.State}" data-label="State">{host.State}</td><td data-label="IP">{Html.Encode(host.Ip)}</td><td class="muted" data-label="Peer">{Html.Encode(host.Peer)}</td><td data-label="Last seen" data-last-seen="{host.LastSeen.UtcDateTime:O}" title="{Local(host.LastSeen, time)}">{Durations.Format(now - host.LastSeen)} ago</td><td class="muted" data-label="Interval">{Durations.Format(TimeSpan.FromSeconds(host.IntervalSeconds))} ({host.IntervalSource})</td><td data-label="IP changes">{host.IpChanges}</td><td class="notes">{RenderNotes(host)}</td></tr>

                """);
        }

        page.Append("</tbody>\n</table>\n<nav class=\"pager\" id=\"pager\">");
        if (filter.Cursor is not null)
        {
            page.Append(CultureInfo.InvariantCulture, $"<a id=\"first-page\" href=\"{Html.Encode(filter.Link(cursor: null))}\">First page</a> ");
        }

        if (hosts.NextCursor is { } next)
        {
            page.Append(CultureInfo.InvariantCulture, $"<a id=\"next-page\" href=\"{Html.Encode(filter.Link(next))}\">Next page</a>");
        }

        page.Append("</nav>\n<h2>Recent events</h2>\n<ul id=\"events\">\n");
        foreach (var e in recent)
        {
            page.Append(CultureInfo.InvariantCulture, $"<li><time datetime=\"{e.At.UtcDateTime:O}\">{Local(e.At, time)}</time>{Html.Encode(e.Summary)}</li>\n");
        }

        page.Append("</ul>\n");
        if (view.Notifiers.Count > 0)
        {
            page.Append("<h2>Notifiers</h2>\n<table id=\"notifiers\" class=\"cards\">\n<thead><tr><th>Target</th><th>Events</th><th>Waiting</th><th>Parked</th><th>Last delivered</th><th>Last error</th></tr></thead>\n<tbody>\n");
            foreach (var n in view.Notifiers)
            {
                var events = n.Events.Count == 0 ? "all" : string.Join(", ", n.Events);
                var delivered = n.LastDelivered is { } at ? Local(at, time) : "never";
                var error = n.LastError is null ? string.Empty : $"{Local(n.LastErrorAt!.Value, time)}: {n.LastError}";
                page.Append(CultureInfo.InvariantCulture, $"<tr><td class=\"host\">{Html.Encode(n.Name)}</td><td data-label=\"Events\">{events}</td><td data-label=\"Waiting\">{n.Pending}</td><td data-label=\"Parked\">{n.Parked}</td><td data-label=\"Last delivered\">{delivered}</td><td data-label=\"Last error\">{Html.Encode(error)}</td></tr>\n");
            }

            page.Append("</tbody>\n</table>\n");
        }

        page.Append("</main>\n</body>\n</html>\n");
        return page.ToString();
    }

    private static string StateOptions(HostState? selected) => string.Concat(HostIndex.Order.Select(s =>
        $"<option value=\"{ApiNames.Of(s)}\"{(s == selected ? " selected" : string.Empty)}>{ApiNames.Of(s)}</option>"));

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
