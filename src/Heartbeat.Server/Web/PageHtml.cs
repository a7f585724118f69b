using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;

namespace Heartbeat.Server.Web;

// Pieces the status page and the public status page share. Everything a client sent goes through Encode.
internal static class PageHtml
{
    private static readonly HtmlEncoder Html = HtmlEncoder.Default;

    public static string Encode(string? text) => Html.Encode(text ?? string.Empty);

    // The document's head: the favicon turns red while any host is down, and so does the title's count.
    public static string Head(string title, int down, bool script) => string.Create(CultureInfo.InvariantCulture, $"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{(down > 0 ? $"({down:N0} down) " : string.Empty)}{Encode(title)}</title>
        <link rel="icon" id="favicon" type="image/svg+xml" href="{FaviconOf(down)}">
        <link rel="stylesheet" href="/assets/status.css">
        {(script ? "<script src=\"/assets/status.js\" defer></script>\n" : string.Empty)}</head>
        """);

    public static string FaviconOf(int down) => down > 0 ? "/assets/favicon-down.svg" : "/assets/favicon.svg";

    // A host name that may wrap after each '.', '-' or '_' (web1.eu-west.example.org), not mid-word.
    public static string BreakableName(string name)
    {
        var html = new StringBuilder(name.Length + 16);
        var start = 0;
        for (var i = 0; i < name.Length; i++)
        {
            if (name[i] is '.' or '-' or '_' && i < name.Length - 1)
            {
                html.Append(Encode(name[start..(i + 1)])).Append("<wbr>");
                start = i + 1;
            }
        }

        return html.Append(Encode(name[start..])).ToString();
    }

    public static string HostLink(string id) => "/hosts/" + Uri.EscapeDataString(id);

    // A link to the list with these filters (and page), in the form the filter form submits.
    public static string ListLink(string path, IEnumerable<(string Name, string? Value)> query)
    {
        var parts = query.Where(q => !string.IsNullOrEmpty(q.Value)).Select(q => $"{q.Name}={Uri.EscapeDataString(q.Value!)}").ToList();
        return parts.Count == 0 ? path : $"{path}?{string.Join('&', parts)}";
    }
}
