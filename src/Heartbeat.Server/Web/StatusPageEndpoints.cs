using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using Heartbeat.Server.Hosting;

namespace Heartbeat.Server.Web;

internal static class StatusPageEndpoints
{
    public static IEndpointRouteBuilder MapStatusPage(this IEndpointRouteBuilder app)
    {
        // HEAD is answered by the same handler: Kestrel sends the headers (Content-Length included) and drops the body.
        app.MapMethods("/", [HttpMethods.Get, HttpMethods.Head], (ServerStatus status, TimeProvider time) =>
        {
            var page = Encoding.UTF8.GetBytes(Render(status, time));
            return TypedResults.Bytes(page, "text/html; charset=utf-8");
        });
        return app;
    }

    private static string Render(ServerStatus status, TimeProvider time)
    {
        var started = TimeZoneInfo.ConvertTime(status.StartedAt, time.LocalTimeZone);
        var html = HtmlEncoder.Default;
        return string.Create(CultureInfo.InvariantCulture, $$"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Heartbeat server</title>
            <style>
            body { font: 16px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 42rem; padding: 0 1rem; color: #1f2328; }
            h1 { font-size: 1.5rem; margin-bottom: 0.25rem; }
            .state { color: #1a7f37; font-weight: 600; margin-top: 0; }
            dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1.5rem; }
            dt { color: #59636e; }
            dd { margin: 0; font-variant-numeric: tabular-nums; }
            code { background: #f6f8fa; padding: 0.1rem 0.3rem; border-radius: 4px; }
            </style>
            </head>
            <body>
            <main>
            <h1>Heartbeat server</h1>
            <p class="state">Running</p>
            <dl>
            <dt>Version</dt><dd>{{html.Encode(ServerStatus.Version)}}</dd>
            <dt>Started</dt><dd><time datetime="{{status.StartedAt.UtcDateTime:O}}">{{started:yyyy-MM-dd HH:mm:ss zzz}}</time></dd>
            <dt>Uptime</dt><dd>{{FormatUptime(status.Uptime)}}</dd>
            <dt>Heartbeats received</dt><dd>{{status.HeartbeatsReceived:N0}}</dd>
            </dl>
            <p>Machines report in with <code>POST /</code> and a JSON body such as <code>{"ip": "192.168.1.100"}</code>.</p>
            </main>
            </body>
            </html>

            """);
    }

    private static string FormatUptime(TimeSpan uptime) => uptime switch
    {
        { TotalDays: >= 1 } => string.Create(CultureInfo.InvariantCulture, $"{(int)uptime.TotalDays}d {uptime.Hours}h {uptime.Minutes}m"),
        { TotalHours: >= 1 } => string.Create(CultureInfo.InvariantCulture, $"{uptime.Hours}h {uptime.Minutes}m {uptime.Seconds}s"),
        { TotalMinutes: >= 1 } => string.Create(CultureInfo.InvariantCulture, $"{uptime.Minutes}m {uptime.Seconds}s"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{uptime.Seconds}s"),
    };
}
