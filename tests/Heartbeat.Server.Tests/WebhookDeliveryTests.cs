using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Heartbeat.Server.Notify;
using Heartbeat.Server.Tests.Infrastructure;

namespace Heartbeat.Server.Tests;

/// <summary>Webhooks against receivers as they are in the wild: the first attempt gets through, and a failed one says why.</summary>
public sealed class WebhookDeliveryTests
{
    [Fact]
    public async Task SixtyAlertsToAPythonHttpServerReceiverAllGetThroughAtTheFirstAttempt()
    {
        const int hosts = 60;
        using var receiver = await PythonReceiver.StartAsync();
        await using var server = await InProcessServer.StartAsync(o => InProcessServer.WithoutRateLimits(o) with
        {
            Notify = o.Notify with { Webhooks = [WebhookSpec.Parse($"{receiver.Url}hook#failing")] },
        });

        // Failures, not new hosts: a burst of new hosts folds into one summary.
        for (var host = 0; host < hosts; host++)
        {
            await server.BeatAsync($$"""{"host": "host-{{host}}", "status": "fail", "msg": "disk full"}""");
        }

        await Eventually.TrueAsync(() => receiver.Received.Count >= hosts, $"{hosts} deliveries", TimeSpan.FromSeconds(60));
        Assert.Equal(hosts, receiver.Received.Distinct().Count());
        Assert.Equal(hosts, receiver.Received.Count);
        Assert.Equal(0, server.Metrics.Notifications.WithLabels("failed").Value);
        Assert.Equal(hosts, server.Metrics.Notifications.WithLabels("delivered").Value);
    }

    [Fact]
    public async Task AnAttemptNobodyAnsweredIsRecordedAsConnectionRefused()
    {
        var port = ClosedPort();
        await using var server = await StartWithWebhookAsync($"http://127.0.0.1:{port}/hook");

        await server.BeatAsync("""{"host": "web1"}""");

        Assert.Equal("Connection refused", await LastErrorAsync(server));
    }

    [Fact]
    public async Task AnAttemptCutOffByTheReceiverIsRecordedAsConnectionReset()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var resets = ResetEveryConnectionAsync(listener);
        await using var server = await StartWithWebhookAsync($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/hook");

        await server.BeatAsync("""{"host": "web1"}""");

        Assert.Equal("Connection reset by peer", await LastErrorAsync(server));
        listener.Stop();
        await resets;
    }

    private static Task<InProcessServer> StartWithWebhookAsync(string url) =>
        InProcessServer.StartAsync(o => o with { Notify = o.Notify with { Webhooks = [WebhookSpec.Parse(url + "#new")], RetryBase = TimeSpan.FromMinutes(10) } });

    private static async Task<string?> LastErrorAsync(InProcessServer server)
    {
        var notifier = await Eventually.ValueAsync(
            () =>
            {
                var view = server.GetJsonAsync("/api/v1/notifiers").GetAwaiter().GetResult()[0];
                return view.GetProperty("lastError").ValueKind == JsonValueKind.String ? (object)view : null;
            },
            "a failed attempt to be recorded");
        return ((JsonElement)notifier).GetProperty("lastError").GetString();
    }

    private static int ClosedPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>Reads the start of each request, then aborts the connection (RST), as a crashing receiver would.</summary>
    private static async Task ResetEveryConnectionAsync(TcpListener listener)
    {
        try
        {
            while (true)
            {
                using var connection = await listener.AcceptSocketAsync(TestContext.Current.CancellationToken);
                await connection.ReceiveAsync(new byte[1024], TestContext.Current.CancellationToken);
                connection.LingerState = new LingerOption(true, 0);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The listener was stopped.
        }
    }
}
