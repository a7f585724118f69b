using Heartbeat.Protocol;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Security;
using Heartbeat.Server.Web;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Heartbeat.Server.Ingest;

// Beats in the shapes other monitors' clients send, so that machines can move here without touching them:
// Uptime Kuma's push URLs and Consul's TTL check updates. Each becomes an ordinary beat: same checks,
// log line, states and limits as POST /.
internal static class PeerIngressEndpoints
{
    public static IEndpointRouteBuilder MapPeerIngress(this IEndpointRouteBuilder app)
    {
        // Uptime Kuma: /api/push/{pushToken}?status=up|down&msg=…&ping=…, any method. The push token names the host.
        app.Map("/api/push/{token}", (string token, string? status, string? msg, HttpContext context, HeartbeatIntake intake, BeatGate gate, TimeProvider time) =>
            status is null or "up" or "down"
                ? BeatAsync(token, fail: status == "down", msg, context, intake, gate, time)
                : Task.FromResult<Results<Ok<HeartbeatAck>, ProblemHttpResult>>(
                    IngestEndpoints.Invalid(new HeartbeatError("'status' must be \"up\" or \"down\".", "status"))))
            .ReceivesBeats()
            .CountRejections();

        // Consul: PUT /v1/agent/check/{pass|warn|fail}/{checkId}?note=…; a warning is a reported problem too.
        foreach (var (result, fail) in new[] { ("pass", false), ("warn", true), ("fail", true) })
        {
            app.MapPut($"/v1/agent/check/{result}/{{id}}", (string id, string? note, HttpContext context, HeartbeatIntake intake, BeatGate gate, TimeProvider time) =>
                BeatAsync(id, fail, note, context, intake, gate, time))
                .ReceivesBeats()
                .CountRejections()
                .WithName($"ConsulCheck{char.ToUpperInvariant(result[0])}{result[1..]}").WithTags(ApiDocument.Beats)
                .WithSummary($"A beat in the shape of Consul's TTL check update ({result})").Problems(400, 401, 413, 429, 503);
        }

        return app;
    }

    private static Task<Results<Ok<HeartbeatAck>, ProblemHttpResult>> BeatAsync(
        string host, bool fail, string? message, HttpContext context, HeartbeatIntake intake, BeatGate gate, TimeProvider time) =>
        PingEndpoints.PingAsync(host, fail ? HeartbeatStatus.Fail : HeartbeatStatus.Up, interval: null, string.IsNullOrEmpty(message) ? null : message, context, intake, gate, time);
}
