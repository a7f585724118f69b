using System.CommandLine;
using System.Globalization;

namespace Heartbeat.Server.Hosting;

// heartbeat-server healthcheck: asks the server on this machine for /healthz and exits 0 when it answers 200, else 1.
// For a container's HEALTHCHECK, as the runtime image has no curl.
internal static class HealthProbe
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public static Command Create()
    {
        var url = new Option<Uri?>("--url")
        {
            Description = "The health endpoint to ask (default: http://127.0.0.1:PORT/healthz, PORT from HEARTBEAT_PORT, else 7777)",
            HelpName = "url",
        };
        var command = new Command("healthcheck", "Ask the server on this machine for /healthz: exit 0 when it answers 200 (a container's HEALTHCHECK)") { url };
        command.SetAction((result, cancellationToken) => ProbeAsync(result.GetValue(url) ?? DefaultUrl(), cancellationToken));
        return command;
    }

    private static Uri DefaultUrl()
    {
        var port = int.TryParse(Environment.GetEnvironmentVariable("HEARTBEAT_PORT"), NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p > 0 ? p : 7777;
        return new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/healthz");
    }

    private static async Task<int> ProbeAsync(Uri url, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = Timeout };
        try
        {
            using var response = await http.GetAsync(url, cancellationToken);
            var healthy = response.IsSuccessStatusCode;
            await (healthy ? Console.Out : Console.Error).WriteLineAsync($"{url}: {(int)response.StatusCode} {(healthy ? "healthy" : await response.Content.ReadAsStringAsync(cancellationToken))}");
            return healthy ? 0 : 1;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            await Console.Error.WriteLineAsync($"{url}: cannot reach it: {e.Message}");
            return 1;
        }
    }
}
