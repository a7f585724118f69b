using System.IO.Pipelines;
using Heartbeat.Protocol;
using Heartbeat.Server.ApiDocs;
using Heartbeat.Server.Diagnostics;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Heartbeat.Server.Ingest;

internal static class IngestEndpoints
{
    // Marks a refusal counted already, with its own reason (see Refused).
    private static readonly object CountedKey = new();

    public static IEndpointRouteBuilder MapIngest(this IEndpointRouteBuilder app)
    {
        // Content-Type is not looked at: the seed's own curl example sends JSON as a form post.
        var beats = new BeatServices(app.ServiceProvider);
        var maxBytes = app.ServiceProvider.GetRequiredService<IngestOptions>().MaxBodyBytes;
        app.MapPost("/", (HttpContext context, CancellationToken cancellationToken) => ReceiveHeartbeat(context, beats, maxBytes, cancellationToken))
            .ReceivesBeats()
            .WithName("SendHeartbeat").WithTags(ApiDocument.Beats).Takes(typeof(HeartbeatPayload), "application/json")
            .WithSummary("A heartbeat: an empty body or a JSON object of the wire format, whatever its Content-Type")
            .Problems(400, 401, 408, 413, 429, 503);
        return app;
    }

    // Counts refused beats by reason in heartbeat_rejected_total, on every route that receives beats (BrowserGuard.ReceivesBeat).
    public static IApplicationBuilder UseRejectionCounting(this IApplicationBuilder app)
    {
        var metrics = app.ApplicationServices.GetRequiredService<ServerMetrics>();
        return app.Use(async (context, next) =>
        {
            await next(context);
            var status = context.Response.StatusCode;
            if (status >= 400 && !context.Items.ContainsKey(CountedKey))
            {
                metrics.Rejected(status switch
                {
                    StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden => "unauthorized",
                    StatusCodes.Status413PayloadTooLarge => "too_large",
                    StatusCodes.Status408RequestTimeout => "too_slow",
                    StatusCodes.Status429TooManyRequests => "rate_limited",
                    StatusCodes.Status503ServiceUnavailable => "log_unavailable",
                    _ => "invalid",
                });
            }
        });
    }

    // A body that came whole is parsed and handed on without an await of its own: the beat's one wait is its log line.
    private static Task<Results<BeatAck, ProblemHttpResult>> ReceiveHeartbeat(HttpContext context, BeatServices beats, long maxBytes, CancellationToken cancellationToken)
    {
        if (context.Request.ContentLength > maxBytes)
        {
            return Answer(BodyTooLarge(maxBytes));
        }

        ValueTask<ReadResult> reading;
        try
        {
            reading = ReadWholeBodyAsync(context.Request.BodyReader, maxBytes, cancellationToken);
        }
        catch (BadHttpRequestException e)
        {
            return Answer(Unreadable(e, maxBytes));
        }

        return reading.IsCompletedSuccessfully
            ? Take(context, beats, maxBytes, reading.Result)
            : TakeWhenReadAsync(context, beats, maxBytes, reading);
    }

    private static async Task<Results<BeatAck, ProblemHttpResult>> TakeWhenReadAsync(
        HttpContext context, BeatServices beats, long maxBytes, ValueTask<ReadResult> reading)
    {
        ReadResult body;
        try
        {
            body = await reading;
        }
        catch (BadHttpRequestException e)
        {
            return Unreadable(e, maxBytes);
        }

        return await Take(context, beats, maxBytes, body);
    }

    private static Task<Results<BeatAck, ProblemHttpResult>> Take(HttpContext context, BeatServices beats, long maxBytes, ReadResult body)
    {
        ReceivedHeartbeat? heartbeat;
        string? token;
        try
        {
            if (body.Buffer.Length > maxBytes)
            {
                return Answer(BodyTooLarge(maxBytes));
            }

            if (!HeartbeatParser.TryParse(body.Buffer, out heartbeat, out token, out var error))
            {
                return Answer(Invalid(error));
            }
        }
        finally
        {
            context.Request.BodyReader.AdvanceTo(body.Buffer.End);
        }

        return AcceptAsync(beats, heartbeat, Tokens.FromHeader(context.Request) ?? token, context);
    }

    private static Task<Results<BeatAck, ProblemHttpResult>> Answer(ProblemHttpResult problem) => Task.FromResult<Results<BeatAck, ProblemHttpResult>>(problem);

    // Kestrel could not read the body: too large, broken chunked framing, or sent too slowly (408).
    private static ProblemHttpResult Unreadable(BadHttpRequestException e, long maxBytes) => e.StatusCode == StatusCodes.Status413PayloadTooLarge
        ? BodyTooLarge(maxBytes)
        : TypedResults.Problem(title: "Unreadable heartbeat", detail: e.Message, statusCode: e.StatusCode);

    // The answer to a valid beat from any ingress: refused by the gate (token, rate limit) or, for a new host, by the
    // bounds on hosts; 200 with the ack, or 503 when it could not be logged.
    public static async Task<Results<BeatAck, ProblemHttpResult>> AcceptAsync(BeatServices beats, ReceivedHeartbeat heartbeat, string? token, HttpContext context)
    {
        var intake = beats.Intake;
        var peer = PeerAddress.Format(context.Connection.RemoteIpAddress);
        var id = HostRegistry.IdentityOf(heartbeat, peer);
        if (beats.Gate.Check(context, id, token) is { } refused)
        {
            return refused;
        }

        if (intake.WhyNotNow() is { } busy)
        {
            return Refused(context, "store_backlog", TypedResults.Problem(
                title: "Heartbeat not recorded", detail: busy, statusCode: StatusCodes.Status503ServiceUnavailable));
        }

        if (intake.Admission.Check(context, id, fromAddress: peer, out var slot) is { } full)
        {
            return full;
        }

        using (slot)
        {
            if (!await intake.AcceptAsync(heartbeat, peer))
            {
                return TypedResults.Problem(
                    title: "Heartbeat not recorded",
                    detail: "The server could not write its heartbeat log. Try again later.",
                    statusCode: StatusCodes.Status503ServiceUnavailable);
            }
        }

        return new BeatAck(new HeartbeatAck("ok", peer, beats.Time.GetUtcNow()));
    }

    // A refusal whose status code does not tell its reason (there are several 503s and 429s), counted here, once.
    public static ProblemHttpResult Refused(HttpContext context, string reason, ProblemHttpResult problem)
    {
        context.RequestServices.GetRequiredService<ServerMetrics>().Rejected(reason);
        context.Items[CountedKey] = reason;
        return problem;
    }

    public static ProblemHttpResult Invalid(HeartbeatError error) => TypedResults.Problem(
        title: "Invalid heartbeat",
        detail: error.Detail,
        statusCode: StatusCodes.Status400BadRequest,
        extensions: error.Field is null ? null : new Dictionary<string, object?> { ["field"] = error.Field });

    // Buffers the body in the pipe (no copy) until it ends or passes the limit. An agent's beat has usually come whole
    // with its headers, and is then taken without an await.
    private static ValueTask<ReadResult> ReadWholeBodyAsync(PipeReader reader, long maxBytes, CancellationToken cancellationToken)
    {
        if (reader.TryRead(out var result))
        {
            if (result.IsCompleted || result.Buffer.Length > maxBytes)
            {
                return ValueTask.FromResult(result);
            }

            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }

        return ReadRestAsync(reader, maxBytes, cancellationToken);
    }

    private static async ValueTask<ReadResult> ReadRestAsync(PipeReader reader, long maxBytes, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            if (result.IsCompleted || result.Buffer.Length > maxBytes)
            {
                return result;
            }

            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    private static ProblemHttpResult BodyTooLarge(long maxBytes) => TypedResults.Problem(
        title: "Heartbeat too large",
        detail: $"The body must be at most {maxBytes} bytes.",
        statusCode: StatusCodes.Status413PayloadTooLarge);
}
