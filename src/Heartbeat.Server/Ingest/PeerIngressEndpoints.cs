using System.Text.Json;
using System.Text.Json.Serialization;
using Heartbeat.Server.ApiDocs;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Heartbeat.Server.Ingest;

// Beats in the shapes other monitors' clients send, so that machines can move here without touching them:
// Uptime Kuma's push URLs and Consul's TTL check updates, each answered as that tool answers. Each becomes an
// ordinary beat: same checks, log line, states and limits as POST /.
internal static class PeerIngressEndpoints
{
    private static readonly string[] ConsulMethods = [HttpMethods.Put, HttpMethods.Get];

    public static IEndpointRouteBuilder MapPeerIngress(this IEndpointRouteBuilder app)
    {
        var beats = new BeatServices(app.ServiceProvider);

        // Uptime Kuma: /api/push/{pushToken}?status=up|down|pending&msg=…&ping=…, any method. The push token names the
        // host. Kuma counts a pending push as down, and answers {"ok":true}.
        app.Map("/api/push/{token}", (string token, string? status, string? msg, HttpContext context) =>
            status is null or "up" or "down" or "pending"
                ? Answered(BeatAsync(token, fail: status is "down" or "pending", msg, AccessControl.TokenOf(context.Request), context, beats), KumaOk)
                : Task.FromResult<Results<ContentHttpResult, ProblemHttpResult>>(
                    IngestEndpoints.Invalid(new HeartbeatError("'status' must be \"up\", \"down\" or \"pending\".", "status"))))
            .ReceivesBeats();

        // Consul: PUT /v1/agent/check/{pass|warn|fail}/{checkId}?note=… (older clients send GET, as Consul once took);
        // a warning is a reported problem too. Consul answers 200 with no body.
        foreach (var (result, fail) in new[] { ("pass", false), ("warn", true), ("fail", true) })
        {
            app.MapMethods($"/v1/agent/check/{result}/{{id}}", ConsulMethods,
                (string id, string? note, HttpContext context) =>
                    Answered(BeatAsync(id, fail, note, ConsulToken(context.Request), context, beats), TypedResults.Text(string.Empty)))
                .ReceivesBeats()
                .WithName($"ConsulCheck{char.ToUpperInvariant(result[0])}{result[1..]}").WithTags(ApiDocument.Beats)
                .WithSummary($"A beat in the shape of Consul's TTL check update ({result}); answered 200 with no body, as Consul does")
                .Responds(StatusCodes.Status200OK, null, "text/plain").Problems(400, 401, 413, 429, 503);
        }

        // Consul: PUT /v1/agent/check/update/{checkId} with {"Status": "passing|warning|critical", "Output": "…"}.
        app.MapPut("/v1/agent/check/update/{id}", (string id, HttpContext context) => CheckUpdateAsync(id, context, beats))
            .ReceivesBeats()
            .WithName("ConsulCheckUpdate").WithTags(ApiDocument.Beats).Takes(typeof(ConsulCheckUpdate), "application/json")
            .WithSummary("A beat in the shape of Consul's check update: passing is up, warning and critical a failure")
            .Responds(StatusCodes.Status200OK, null, "text/plain").Problems(400, 401, 413, 429, 503);

        return app;
    }

    private static ContentHttpResult KumaOk => TypedResults.Text("""{"ok":true}""", "application/json");

    private static async Task<Results<ContentHttpResult, ProblemHttpResult>> Answered(Task<Results<BeatAck, ProblemHttpResult>> beat, ContentHttpResult accepted) =>
        (await beat).Result is ProblemHttpResult problem ? problem : accepted;

    private static Task<Results<BeatAck, ProblemHttpResult>> BeatAsync(
        string host, bool fail, string? message, string? token, HttpContext context, BeatServices beats) =>
        PingEndpoints.PingAsync(
            host, fail ? HeartbeatStatus.Fail : HeartbeatStatus.Up, interval: null, string.IsNullOrEmpty(message) ? null : message, token, context, beats);

    // Consul's clients send their ACL token as X-Consul-Token (or ?token=, as Consul also takes).
    private static string? ConsulToken(HttpRequest request) =>
        request.Headers["X-Consul-Token"].FirstOrDefault() is { Length: > 0 } token ? token : AccessControl.TokenOf(request);

    // The body is read within --max-body, as Kestrel enforces it.
    private static async Task<Results<ContentHttpResult, ProblemHttpResult>> CheckUpdateAsync(
        string id, HttpContext context, BeatServices beats)
    {
        string? status, output;
        try
        {
            using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            (status, output) = body.RootElement.ValueKind == JsonValueKind.Object
                ? (TextOf(body.RootElement, "Status"), TextOf(body.RootElement, "Output"))
                : (null, null);
        }
        catch (JsonException)
        {
            (status, output) = (null, null);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TypedResults.Problem(title: "Body too large", detail: e.Message, statusCode: StatusCodes.Status413PayloadTooLarge);
        }

        if (status is not ("passing" or "warning" or "critical"))
        {
            return IngestEndpoints.Invalid(new HeartbeatError(
                "The body must be JSON such as {\"Status\": \"passing\", \"Output\": \"…\"}; Status is passing, warning or critical.", "Status"));
        }

        return await Answered(BeatAsync(id, status != "passing", output, ConsulToken(context.Request), context, beats), TypedResults.Text(string.Empty));
    }

    private static string? TextOf(JsonElement body, string name) =>
        body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}

// The body of Consul's check update, for the API document; the endpoint reads it with JsonDocument.
internal sealed record ConsulCheckUpdate(string Status, string? Output);

// The NativeAOT build has no reflection-based JSON: the API document needs the body's metadata generated.
[JsonSerializable(typeof(ConsulCheckUpdate))]
internal sealed partial class PeerJsonContext : JsonSerializerContext;
