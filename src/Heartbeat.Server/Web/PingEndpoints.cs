using Heartbeat.Protocol;
using Heartbeat.Server.Ingest;
using Heartbeat.Server.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Heartbeat.Server.Web;

/// <summary>
/// Cron-style ping URLs for jobs and scripts that cannot send JSON: <c>curl -fsS http://server:7777/ping/nightly-backup</c>.
/// <c>/ping/{host}/fail</c> reports a failure; <c>?interval=300</c> declares the interval, <c>?msg=</c> adds a note
/// and <c>?token=</c> carries the token where the server wants one.
/// The address the request comes from is the host's IP.
/// </summary>
internal static class PingEndpoints
{
    private static readonly string[] Methods = [HttpMethods.Get, HttpMethods.Post, HttpMethods.Head];

    public static IEndpointRouteBuilder MapPings(this IEndpointRouteBuilder app)
    {
        app.MapMethods("/ping/{host}", Methods, (string host, string? interval, string? msg, HttpContext context, HeartbeatIntake intake, BeatGate gate, TimeProvider time) =>
            PingAsync(host, fail: false, interval, msg, context, intake, gate, time)).CountRejections();
        app.MapMethods("/ping/{host}/fail", Methods, (string host, string? interval, string? msg, HttpContext context, HeartbeatIntake intake, BeatGate gate, TimeProvider time) =>
            PingAsync(host, fail: true, interval, msg, context, intake, gate, time)).CountRejections();
        return app;
    }

    /// <summary>A beat whose fields come from a URL rather than a JSON body.</summary>
    internal static async Task<Results<Ok<HeartbeatAck>, ProblemHttpResult>> PingAsync(
        string host, bool fail, string? interval, string? msg, HttpContext context, HeartbeatIntake intake, BeatGate gate, TimeProvider time) =>
        HeartbeatParser.TryParsePing(host, fail, interval, msg, out var heartbeat, out var error)
            ? await IngestEndpoints.AcceptAsync(intake, gate, heartbeat, AccessControl.TokenOf(context.Request), context, time)
            : IngestEndpoints.Invalid(error);
}
