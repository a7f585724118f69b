using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Heartbeat.Protocol;

namespace Heartbeat.Agent;

// What one beat says about this machine.
internal sealed record BeatSettings(
    Uri Server,
    string Host,
    TimeSpan Interval,
    string? Ip,
    Uri? IpFrom,
    bool Fail,
    string? Message,
    string? Token,
    int? Misses = null,
    string? Group = null,
    TimeSpan? Maintenance = null);

// Sends beats: the IP found afresh each time (it is what changes), the rest as configured.
internal sealed class BeatSender(HttpClient http, BeatSettings settings)
{
    // Null when the server answered 200; otherwise why not, in one line.
    public async Task<string?> SendAsync(CancellationToken cancellationToken)
    {
        try
        {
            var ip = settings.Ip
                ?? (settings.IpFrom is { } echo
                    ? await AddressDiscovery.FromEchoServiceAsync(http, echo, cancellationToken)
                    : await AddressDiscovery.RouteToAsync(settings.Server, cancellationToken)).ToString();
            var payload = new HeartbeatPayload(
                ip, settings.Host, settings.Interval.TotalSeconds, settings.Fail ? "fail" : null, settings.Message, settings.Misses,
                settings.Maintenance?.TotalSeconds, BootIdentity.Current(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0, settings.Group);
            using var request = new HttpRequestMessage(HttpMethod.Post, settings.Server)
            {
                Content = JsonContent.Create(payload, ProtocolJsonContext.Default.HeartbeatPayload),
            };
            if (settings.Token is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", settings.Token);
            }

            using var response = await http.SendAsync(request, cancellationToken);
            return response.IsSuccessStatusCode ? null : await DescribeAsync(response, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or InvalidOperationException or System.Net.Sockets.SocketException
            || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return $"cannot reach {settings.Server}: {(e is TaskCanceledException ? "timed out" : e.Message)}";
        }
    }

    // The server's problem+json detail when it sent one, else the status line.
    private static async Task<string> DescribeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = $"{(int)response.StatusCode} {response.ReasonPhrase}";
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return $"the server answered {status}";
        }

        try
        {
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            return problem.RootElement.TryGetProperty("detail", out var detail) && detail.GetString() is { } text
                ? $"the server answered {status}: {text}"
                : $"the server answered {status}";
        }
        catch (JsonException)
        {
            return $"the server answered {status}";
        }
    }
}
