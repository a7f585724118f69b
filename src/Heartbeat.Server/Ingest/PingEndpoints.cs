using System.Buffers;
using System.Globalization;
using System.Text;
using Heartbeat.Protocol;
using Heartbeat.Server.ApiDocs;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Heartbeat.Server.Ingest;

// Cron-style ping URLs for jobs and scripts that cannot send JSON, shaped like Healthchecks.io's so its clients
// work unchanged: curl -fsS http://server:7777/ping/nightly-backup.
// - /ping/{host} is a beat; /fail reports a failure; /{exit-code} is either (0 is success).
// - /start says a job started: not a beat, but the next beat records how long the run took.
// - /log keeps its body without counting as a beat.
// A POSTed body (a job's output, say) is kept with the host, its first BodyLimit bytes; the limit
// is in every answer's Ping-Body-Limit header. It is never written to the log. ?interval=300
// declares the interval, ?msg= adds a note and ?token= carries the token where the server wants one; so does
// Healthchecks' ping-key form, /ping/{token}/{host}[/fail|/start|/log|/{exit-code}]. A host named fail, start, log
// or a number cannot be pinged in that form, as those words end the short one.
// The address the request comes from is the host's IP. An accepted ping is answered OK in plain text, as Healthchecks does.
internal static class PingEndpoints
{
    public const int BodyLimit = 10_000;

    private static readonly string[] Methods = [HttpMethods.Get, HttpMethods.Post, HttpMethods.Head];

    public static IEndpointRouteBuilder MapPings(this IEndpointRouteBuilder app)
    {
        var beats = new BeatServices(app.ServiceProvider);
        MapPingUrls(app.MapGroup("/ping/{host}"), beats, context => AccessControl.TokenOf(context.Request), "Ping");

        // OpenAPI cannot tell /ping/{key}/{host} from /ping/{host}/{code}, so the ping-key form stays out of the document;
        // the short form's description names it.
        MapPingUrls(app.MapGroup("/ping/{key}/{host}").ExcludeFromDescription(), beats, context => context.Request.RouteValues["key"] as string, "PingWithKey");
        return app;
    }

    // The answer Healthchecks' clients read: OK, in plain text.
    public static async Task<Results<ContentHttpResult, ProblemHttpResult>> AnsweredOk(Task<Results<BeatAck, ProblemHttpResult>> beat) =>
        (await beat).Result is ProblemHttpResult problem ? problem : TypedResults.Text("OK");

    // A beat whose fields come from a URL rather than a JSON body.
    internal static async Task<Results<BeatAck, ProblemHttpResult>> PingAsync(
        string host, HeartbeatStatus status, string? interval, string? msg, string? token, HttpContext context, BeatServices beats)
    {
        if (!HeartbeatParser.TryParsePing(host, status == HeartbeatStatus.Fail, interval, msg, out var heartbeat, out var error))
        {
            return IngestEndpoints.Invalid(error);
        }

        var (body, tooLarge) = await ReadBodyAsync(context.Request);
        return tooLarge ?? await IngestEndpoints.AcceptAsync(beats, heartbeat with { Body = body }, token, context);
    }

    // The five ping URLs under one prefix; name tells the forms apart.
    private static void MapPingUrls(RouteGroupBuilder pings, BeatServices beats, Func<HttpContext, string?> tokenOf, string name)
    {
        pings.ReceivesBeats().AddEndpointFilter(async (context, next) =>
        {
            context.HttpContext.Response.Headers["Ping-Body-Limit"] = BodyLimit.ToString(CultureInfo.InvariantCulture);
            return await next(context);
        }).WithTags(ApiDocument.Beats).Responds(StatusCodes.Status200OK, typeof(string), "text/plain").Problems(400, 401, 413, 429, 503);
        pings.MapMethods(string.Empty, Methods, (string host, string? interval, string? msg, HttpContext context) =>
            AnsweredOk(PingAsync(host, HeartbeatStatus.Up, interval, msg, tokenOf(context), context, beats)))
            .WithName(name).WithSummary("A beat from a job or script, as Healthchecks.io's ping URLs take it; answered OK")
            .WithDescription("With a beat token set, Healthchecks' ping-key form /ping/{token}/{host} (and /fail, /start, /log, /{code} after it) carries it in the path.");
        pings.MapMethods("/fail", Methods, (string host, string? interval, string? msg, HttpContext context) =>
            AnsweredOk(PingAsync(host, HeartbeatStatus.Fail, interval, msg, tokenOf(context), context, beats)))
            .WithName(name + "Fail").WithSummary("A beat that reports a failure");
        pings.MapMethods("/{code:int}", Methods, (string host, int code, string? interval, string? msg, HttpContext context) =>
            AnsweredOk(ExitCodeAsync(host, code, interval, msg, tokenOf(context), context, beats)))
            .WithName(name + "ExitCode").WithSummary("A job's exit status: 0 is a beat, 1-255 a failure");
        pings.MapMethods("/start", Methods, (string host, HttpContext context) =>
            AnsweredOk(SignalAsync(host, "start", tokenOf(context), context, beats)))
            .WithName(name + "Start").WithSummary("A job started: not a beat, but its next beat records how long it ran").ProducesProblem(404);
        pings.MapMethods("/log", Methods, (string host, HttpContext context) =>
            AnsweredOk(SignalAsync(host, "log", tokenOf(context), context, beats)))
            .WithName(name + "Log").WithSummary("Keeps the body with the host without counting as a beat").ProducesProblem(404);
    }

    // A job's exit status, as a wrapper script reports it: 0 is success, 1-255 a failure.
    private static Task<Results<BeatAck, ProblemHttpResult>> ExitCodeAsync(
        string host, int code, string? interval, string? msg, string? token, HttpContext context, BeatServices beats) => code switch
        {
            0 => PingAsync(host, HeartbeatStatus.Up, interval, msg, token, context, beats),
            >= 1 and <= 255 => PingAsync(host, HeartbeatStatus.Fail, interval, msg ?? $"exit status {code}", token, context, beats),
            _ => Task.FromResult<Results<BeatAck, ProblemHttpResult>>(
                IngestEndpoints.Invalid(new HeartbeatError("An exit status must be from 0 to 255."))),
        };

    // A start or log signal: checked like a beat, but not one; the host must be known already.
    private static async Task<Results<BeatAck, ProblemHttpResult>> SignalAsync(
        string host, string kind, string? token, HttpContext context, BeatServices beats)
    {
        if (!HeartbeatParser.TryParsePing(host, fail: false, interval: null, message: null, out _, out var error))
        {
            return IngestEndpoints.Invalid(error);
        }

        if (beats.Gate.Check(context, host, token) is { } refused)
        {
            return refused;
        }

        var (text, tooLarge) = await ReadBodyAsync(context.Request);
        if (tooLarge is not null)
        {
            return tooLarge;
        }

        var now = beats.Time.GetUtcNow();
        var body = text is null && kind == "start" ? null : new PingBody(now, kind, text ?? string.Empty);
        var known = kind == "start" ? await beats.Ledger.RecordStartAsync(host, body) : await beats.Ledger.RecordLogAsync(host, body!);
        return known
            ? new BeatAck(new HeartbeatAck("ok", PeerAddress.Format(context.Connection.RemoteIpAddress), now))
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
