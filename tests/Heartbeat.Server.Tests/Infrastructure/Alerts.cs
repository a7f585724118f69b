using System.Text.Json;

namespace Heartbeat.Server.Tests.Infrastructure;

/// <summary>What alerts a receiver got, once the server has nothing left to deliver.</summary>
internal static class Alerts
{
    /// <summary>
    /// Waits for an alert the test knows must come, then until no notification waits in the outbox, and returns the
    /// events of every alert received. Alerts are queued a flush at a time, so once the awaited one has arrived,
    /// any alert raised before it has been queued too, and an empty outbox means it has been delivered.
    /// </summary>
    public static async Task<string[]> ReceivedAfterAsync(this InProcessServer server, WebhookReceiver receiver, string summaryStart)
    {
        await receiver.WaitForAsync(r => Summary(r).StartsWith(summaryStart, StringComparison.Ordinal), $"the alert '{summaryStart}…'");
        await Eventually.TrueAsync(
            async () => (await server.GetJsonAsync("/api/v1/notifiers")).EnumerateArray().All(n => n.GetProperty("pending").GetInt32() == 0),
            "an empty outbox");
        return [.. receiver.Requests.Select(Summary).Order(StringComparer.Ordinal)];
    }

    private static string Summary(ReceivedRequest request) => JsonDocument.Parse(request.Body).RootElement.GetProperty("summary").GetString()!;
}
