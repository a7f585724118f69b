using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Heartbeat.Server.ApiDocs;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Security;

namespace Heartbeat.Server.Web;

// Status badges for READMEs and wikis: /badge/{host}.svg, /badge/{host}.json (shields.io's endpoint format, for
// https://img.shields.io/endpoint?url=…) and /badge/group/{group}.svg, the worst state of the group's hosts.
// They need read access like the page unless --public-badges opens them.
internal static class BadgeEndpoints
{
    // Long enough to spare a busy README's viewers a request each, short enough that a down host shows soon.
    private const int MaxAgeSeconds = 30;

    // Longer labels are cut, as a badge is a glance, not a table.
    private const int MaxLabelLength = 40;

    public static IEndpointRouteBuilder MapBadges(this IEndpointRouteBuilder app)
    {
        var open = app.ServiceProvider.GetRequiredService<SecurityOptions>().PublicBadges;
        var badges = app.MapGroup("/badge").WithTags(ApiDocument.Badges)
            .Responds(StatusCodes.Status200OK, typeof(string), "image/svg+xml").Responds(StatusCodes.Status200OK, typeof(ShieldsBadge), "application/json").Problems(404);
        badges.MapGet("/{file}", (HttpContext context, HostRegistry registry, string file) =>
            Answer(context, file, open, id => registry.Find(id)?.State))
            .WithName("HostBadge").WithSummary("A host's state as a badge: HOST.svg, or HOST.json in shields.io's endpoint format");
        badges.MapGet("/group/{file}", (HttpContext context, HostRegistry registry, string file) =>
            Answer(context, file, open, group => HostQuery.WorstOf(registry, group))).RequireRateLimiting(RateLimits.HostList)
            .WithName("GroupBadge").WithSummary("The worst state of a group's hosts as a badge: GROUP.svg or GROUP.json");
        if (!open)
        {
            badges.RequireAccess();
        }

        return app;
    }

    private static IResult Answer(HttpContext context, string file, bool open, Func<string, HostState?> stateOf)
    {
        var json = file.EndsWith(".json", StringComparison.Ordinal);
        if (!json && !file.EndsWith(".svg", StringComparison.Ordinal))
        {
            return TypedResults.Problem(
                title: "No such badge", detail: "A badge is NAME.svg or NAME.json.", statusCode: StatusCodes.Status404NotFound);
        }

        var name = file[..file.LastIndexOf('.')];
        var state = name.Length == 0 ? null : stateOf(name);
        context.Response.Headers.CacheControl = $"{(open ? "public" : "private")}, max-age={MaxAgeSeconds}";
        var message = state is { } s ? ApiNames.Of(s) : "unknown";
        var (hex, named) = ColourOf(state);
        var status = state is null ? StatusCodes.Status404NotFound : StatusCodes.Status200OK;
        if (json)
        {
            return state is null
                ? TypedResults.Problem(title: "Unknown", detail: $"Nothing is known as '{name}'.", statusCode: status)
                : TypedResults.Json(new ShieldsBadge(1, name, message, named), BadgeJsonContext.Default.ShieldsBadge);
        }

        return Results.Text(Svg(Shorten(name), message, hex), "image/svg+xml; charset=utf-8", Encoding.UTF8, status);
    }

    // Shields' colours for each state, as hex for our SVG and by name for its endpoint.
    private static (string Hex, string Name) ColourOf(HostState? state) => state switch
    {
        HostState.Up => ("#4c1", "brightgreen"),
        HostState.Late => ("#dfb317", "yellow"),
        HostState.Failing => ("#fe7d37", "orange"),
        HostState.Down => ("#e05d44", "red"),
        HostState.Maintenance => ("#007ec6", "blue"),
        _ => ("#9f9f9f", "lightgrey"),
    };

    private static string Shorten(string label) => label.Length <= MaxLabelLength ? label : string.Concat(label.AsSpan(0, MaxLabelLength - 1), "…");

    // Shields' flat style. Widths are estimated from Verdana 11 px (about 7 px a character), not measured.
    private static string Svg(string label, string message, string colour)
    {
        var (labelWidth, messageWidth) = (TextWidth(label), TextWidth(message));
        var width = labelWidth + messageWidth;
        var (l, m) = (PageHtml.Encode(label), PageHtml.Encode(message));
        return string.Create(CultureInfo.InvariantCulture, $"""
            <svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" aria-label="{l}: {m}"><title>{l}: {m}</title><linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient><clipPath id="r"><rect width="{width}" height="20" rx="3" fill="#fff"/></clipPath><g clip-path="url(#r)"><rect width="{labelWidth}" height="20" fill="#555"/><rect x="{labelWidth}" width="{messageWidth}" height="20" fill="{colour}"/><rect width="{width}" height="20" fill="url(#s)"/></g><g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11"><text x="{labelWidth / 2.0}" y="15" fill="#010101" fill-opacity=".3">{l}</text><text x="{labelWidth / 2.0}" y="14">{l}</text><text x="{labelWidth + (messageWidth / 2.0)}" y="15" fill="#010101" fill-opacity=".3">{m}</text><text x="{labelWidth + (messageWidth / 2.0)}" y="14">{m}</text></g></svg>
            """);
    }

    private static int TextWidth(string text) => 10 + (int)Math.Ceiling(text.Length * 7.0);
}

// https://shields.io/badges/endpoint-badge
internal sealed record ShieldsBadge(int SchemaVersion, string Label, string Message, string Color);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ShieldsBadge))]
internal sealed partial class BadgeJsonContext : JsonSerializerContext;
