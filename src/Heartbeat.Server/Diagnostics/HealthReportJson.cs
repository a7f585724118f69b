using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Heartbeat.Server.Diagnostics;

// The body of /healthz: the overall status, then each check's status, description and data, so that a 503
// says what is wrong (the log's last error, say) and a 200 says when the log was last written.
internal static class HealthReportJson
{
    public static async Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteString("status", report.Status.ToString());
        json.WriteStartObject("checks");
        foreach (var (name, entry) in report.Entries)
        {
            json.WriteStartObject(name);
            json.WriteString("status", entry.Status.ToString());
            json.WriteString("description", entry.Description);
            foreach (var (key, value) in entry.Data)
            {
                var text = value?.ToString();
                if (string.IsNullOrEmpty(text))
                {
                    json.WriteNull(key);
                }
                else
                {
                    json.WriteString(key, text);
                }
            }

            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndObject();
        await json.FlushAsync(context.RequestAborted);
    }
}
