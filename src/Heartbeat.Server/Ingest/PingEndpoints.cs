using System.Buffers;
using System.Globalization;
using System.Text;
using Heartbeat.Protocol;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Security;
using Heartbeat.Server.Web;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Heartbeat.Server.Ingest;

// Cron-style ping URLs for jobs and scripts that cannot send JSON, shaped like Healthchecks.io's so its clients
// work unchanged: curl -fsS http://server:7777/ping/nightly-backup.
// - /ping/{host} is a beat; /fail reports a failure; /{exit-code} is either (0 is success).
// - /start says a job started: not a beat, but the next beat records how long the run took.
// - /log keeps its body without counting as a beat.
// A POSTed body (a job's output, say) is kept with the host, its first BodyLimit bytes; the limit
// is in every answer's Ping-Body-Limit header. It is never written to the log. ?interval=300
// declares the interval, ?msg= adds a note and ?token= carries the token where the server wants one.
// The address the request comes from is the host's IP.
internal static class PingEndpoints
{
    public const int BodyLimit = 10_000;

    private static readonly string[] Methods = [HttpMethods.Get, HttpMethods.Post, HttpMethods.Head];

    public static IEndpointRouteBuilder MapPings(this IEndpointRouteBuilder app)
    {
        var pings = app.MapGroup("/ping/{host}").ReceivesBeats().AddEndpointFilter(async (context, next) =>
        {
            context.HttpContext.Response.Headers["Ping-Body-Limit"] = BodyLimit.ToString(CultureInfo.InvariantCulture);
            return await next(context);
        }).WithTags(ApiDocument.Beats).Problems(400, 401, 413, 429, 503);
        pings.MapMethods(string.Empty, Methods, (string host, string? interval, string? msg, HttpContext context, HeartbeatIntake intake, BeatGate gate, TimeProvider time) =>
            PingAsync(host, HeartbeatStatus.Up, interval, msg, context, intake, gate, time)).CountRejections()
            .WithName("Ping").WithSummary("A beat from a job or script, as Healthchecks.io's ping URLs take it");
        pings.MapMethods("/fail", Methods, (string host, string? interval, string? msg, HttpContext context, HeartbeatIntake intake, BeatGate gate, TimeProvider time) =>
            PingAsync(host, HeartbeatStatus.Fail, interval, msg, context, intake, gate, time)).CountRejections()
            .WithName("PingFail").WithSummary("A beat that reports a failure");
        pings.MapMethods("/{code:int}", Methods, (string host, int code, string? interval, string? msg, HttpContext context, HeartbeatIntake intake, BeatGate gate, TimeProvider time) =>
            ExitCodeAsync(host, code, interval, msg, context, intake, gate, time)).CountRejections()
            .WithName("PingExitCode").WithSummary("A job's exit status: 0 is a beat, 1-255 a failure");
        pings.MapMethods("/start", Methods, (string host, HttpContext context, IHostLedger ledger, BeatGate gate, TimeProvider time) =>
            SignalAsync(host, "start", context, ledger, gate, time)).CountRejections()
            .WithName("PingStart").WithSummary("A job started: not a beat, but its next beat records how long it ran").ProducesProblem(404);
        pings.MapMethods("/log", Methods, (string host, HttpContext context, IHostLedger ledger, BeatGate gate, TimeProvider time) =>
            SignalAsync(host, "log", context, ledger, gate, time)).CountRejections()
            .WithName("PingLog").WithSummary("Keeps the body with the host without counting as a beat").ProducesProblem(404);
        return app;
    }

    // A beat whose fields come from a URL rather than a JSON body.
    internal static async Task<Results<Ok<HeartbeatAck>, ProblemHttpResult>> PingAsync(
        string host, HeartbeatStatus status, string? interval, string? msg, HttpContext context, HeartbeatIntake intake, BeatGate gate, TimeProvider time)
    {
        if (!HeartbeatParser.TryParsePing(host, status == HeartbeatStatus.Fail, interval, msg, out var heartbeat, out var error))
        {
            return IngestEndpoints.Invalid(error);
        }

        var (body, tooLarge) = await ReadBodyAsync(context.Request);
        return tooLarge ?? await IngestEndpoints.AcceptAsync(intake, gate, heartbeat with { Body = body }, AccessControl.TokenOf(context.Request), context, time);
    }

    // A job's exit status, as a wrapper script reports it: 0 is success, 1-255 a failure.
    private static Task<Results<Ok<HeartbeatAck>, ProblemHttpResult>> ExitCodeAsync(
        string host, int code, string? interval, string? msg, HttpContext context, HeartbeatIntake intake, BeatGate gate, TimeProvider time) => code switch
        {
            0 => PingAsync(host, HeartbeatStatus.Up, interval, msg, context, intake, gate, time),
            >= 1 and <= 255 => PingAsync(host, HeartbeatStatus.Fail, interval, msg ?? $"exit status {code}", context, intake, gate, time),
            _ => Task.FromResult<Results<Ok<HeartbeatAck>, ProblemHttpResult>>(
                IngestEndpoints.Invalid(new HeartbeatError("An exit status must be from 0 to 255."))),
        };

    // A start or log signal: checked like a beat, but not one; the host must be known already.
    private static async Task<Results<Ok<HeartbeatAck>, ProblemHttpResult>> SignalAsync(
        string host, string kind, HttpContext context, IHostLedger ledger, BeatGate gate, TimeProvider time)
    {
        if (!HeartbeatParser.TryParsePing(host, fail: false, interval: null, message: null, out _, out var error))
        {
            return IngestEndpoints.Invalid(error);
        }

        if (gate.Check(context, host, AccessControl.TokenOf(context.Request)) is { } refused)
        {
            return refused;
        }

        var (text, tooLarge) = await ReadBodyAsync(context.Request);
        if (tooLarge is not null)
        {
            return tooLarge;
        }

        var now = time.GetUtcNow();
        var body = text is null && kind == "start" ? null : new PingBody(now, kind, text ?? string.Empty);
        var known = kind == "start" ? await ledger.RecordStartAsync(host, body) : await ledger.RecordLogAsync(host, body!);
        return known
            ? TypedResults.Ok(new HeartbeatAck("ok", PeerAddress.Format(context.Connection.RemoteIpAddress), now))
            : TypedResults.Problem(
                title: "No such host",
                detail: $"No host is known as '{host}' yet: its first beat (/ping/{host}) makes it known.",
                statusCode: StatusCodes.Status404NotFound);
    }

    // The first BodyLimit bytes of a POSTed body as text, cut on a character boundary (null when there
    // is none); a body over the server's --max-body is refused like a beat's.
    private static async Task<(string? Text, ProblemHttpResult? TooLarge)> ReadBodyAsync(HttpRequest request)
    {
        if (!HttpMethods.IsPost(request.Method) || request.ContentLength == 0)
        {
            return (null, null);
        }

        // One byte past the limit tells whether the body was cut.
        var buffer = ArrayPool<byte>.Shared.Rent(BodyLimit + 1);
        try
        {
            var length = 0;
            try
            {
                int read;
                while (length <= BodyLimit && (read = await request.Body.ReadAsync(buffer.AsMemory(length, BodyLimit + 1 - length))) > 0)
                {
                    length += read;
                }
            }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return (null, TypedResults.Problem(title: "Ping body too large", detail: e.Message, statusCode: StatusCodes.Status413PayloadTooLarge));
            }

            if (length == 0)
            {
                return (null, null);
            }

            if (length > BodyLimit)
            {
                length = BodyLimit;
                while (length > 0 && (buffer[length] & 0b1100_0000) == 0b1000_0000)
                {
                    length--; // do not split a UTF-8 sequence
                }
            }

            return (Encoding.UTF8.GetString(buffer, 0, length).Replace('\0', '\uFFFD'), null);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
