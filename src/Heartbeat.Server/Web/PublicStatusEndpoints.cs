using System.Globalization;
using System.Text;
using Heartbeat.Protocol;
using Heartbeat.Server.ApiDocs;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Security;

namespace Heartbeat.Server.Web;

// GET /status with --public-status GROUP,…: those groups' hosts, read-only, for anyone. Only names, states and times
// show (no addresses, messages or bodies), no other host ever does, and nothing else opens: not even counts of the rest.
// No script: the page reloads itself.
internal static class PublicStatusEndpoints
{
    private const int RefreshSeconds = 30;

    public static IEndpointRouteBuilder MapPublicStatus(this IEndpointRouteBuilder app)
    {
        var groups = app.ServiceProvider.GetRequiredService<SecurityOptions>().PublicStatus;
        if (groups.Count == 0)
        {
            return app;
        }

        var shown = groups.ToHashSet(StringComparer.Ordinal);
        app.MapMethods("/status", [HttpMethods.Get, HttpMethods.Head], IResult (HostRegistry registry, HostViews views, TimeProvider time, string? cursor) =>
        {
            var filter = new ListFilter(null, null, null, cursor);
            if (filter.Problem() is { } problem)
            {
                return problem;
            }

            var page = HostQuery.Run(registry, views, state: null, search: null, shown, filter.Cursor, offset: 0, HostQuery.PageLimit);
            return TypedResults.Bytes(Encoding.UTF8.GetBytes(Render(page, groups, filter, time)), "text/html; charset=utf-8");
        }).RequireRateLimiting(RateLimits.HostList)
            .WithName("PublicStatus").WithTags(ApiDocument.Pages).WithSummary("The public status page of the --public-status groups, open to anyone")
            .Produces<string>(StatusCodes.Status200OK, "text/html").ProducesProblem(400);
        return app;
    }

    private static string Render(HostPage page, IReadOnlyList<string> groups, ListFilter filter, TimeProvider time)
    {
        var hosts = page.Hosts;
        var down = hosts.Count(h => h.State == ApiNames.Of(HostState.Down));
        var html = new StringBuilder(2048 + (hosts.Count * 300));
        html.Append(PageHtml.Head("Status", down, script: false).Replace("<head>\n", $"<head>\n<meta http-equiv=\"refresh\" content=\"{RefreshSeconds}\">\n", StringComparison.Ordinal));
        html.Append(CultureInfo.InvariantCulture, $"""

            <body>
            <main class="public">
            <h1>Status</h1>
            <p class="muted">{PageHtml.Encode(string.Join(", ", groups))}: {(hosts.Count == 0 ? "no hosts yet" : down > 0 ? $"{down:N0} down" : "no host down")}. This page reloads every {RefreshSeconds}&nbsp;s.</p>
            <table id="hosts" class="cards">
            <thead><tr><th>Host</th><th>Group</th><th>State</th><th>Since</th><th>Last seen</th></tr></thead>
            <tbody>

            """);
        var now = time.GetUtcNow();
        foreach (var host in hosts)
        {
            html.Append(CultureInfo.InvariantCulture, $"""
                <tr data-host="{PageHtml.Encode(host.Id)}"><td class="host">{PageHtml.BreakableName(host.Id)}</td><td data-label="Group">{PageHtml.Encode(host.Site)}</td><td class="state state-{host.State}" data-label="State">{host.State}</td><td data-label="Since" title="{Local(host.StateSince, time)}">{Durations.Format(now - host.StateSince)} ago</td><td data-label="Last seen" title="{Local(host.LastSeen, time)}">{Durations.Format(now - host.LastSeen)} ago</td></tr>

                """);
        }

        html.Append("</tbody>\n</table>\n<nav class=\"pager\">");
        if (filter.Cursor is not null)
        {
            html.Append(CultureInfo.InvariantCulture, $"<a href=\"{PageHtml.Encode(filter.Link(null, "/status"))}\">First page</a> ");
        }

        if (page.NextCursor is { } next)
        {
            html.Append(CultureInfo.InvariantCulture, $"<a id=\"next-page\" href=\"{PageHtml.Encode(filter.Link(next, "/status"))}\">Next page</a>");
        }

        html.Append("</nav>\n</main>\n</body>\n</html>\n");
        return html.ToString();
    }

    private static string Local(DateTimeOffset at, TimeProvider time) => HostNotes.LocalTime(at, time.LocalTimeZone);
}
