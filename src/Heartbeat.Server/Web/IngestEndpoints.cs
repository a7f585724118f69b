using System.IO.Pipelines;
using Heartbeat.Protocol;
using Heartbeat.Server.Hosting;
using Heartbeat.Server.Ingest;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Heartbeat.Server.Web;

internal static class IngestEndpoints
{
    public static IEndpointRouteBuilder MapIngest(this IEndpointRouteBuilder app)
    {
        // Content-Type is not looked at: the seed's own curl example sends JSON as a form post.
        app.MapPost("/", ReceiveHeartbeatAsync);
        return app;
    }

    private static async Task<Results<Ok<HeartbeatAck>, ProblemHttpResult>> ReceiveHeartbeatAsync(
        HttpContext context, ServerOptions options, HeartbeatIntake intake, TimeProvider time, CancellationToken cancellationToken)
    {
        if (context.Request.ContentLength > options.MaxBodyBytes)
        {
            return BodyTooLarge(options.MaxBodyBytes);
        }

        var reader = context.Request.BodyReader;
        ReadResult body;
        try
        {
            body = await ReadWholeBodyAsync(reader, options.MaxBodyBytes, cancellationToken);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return BodyTooLarge(options.MaxBodyBytes);
        }

        ReceivedHeartbeat? heartbeat;
        try
        {
            if (body.Buffer.Length > options.MaxBodyBytes)
            {
                return BodyTooLarge(options.MaxBodyBytes);
            }

            if (!HeartbeatParser.TryParse(body.Buffer, out heartbeat, out var error))
            {
                return Invalid(error);
            }
        }
        finally
        {
            reader.AdvanceTo(body.Buffer.End);
        }

        return await AcceptAsync(intake, heartbeat, context, time);
    }

    /// <summary>The answer to a valid beat from any ingress: 200 with the ack, or 503 when it could not be logged.</summary>
    public static async Task<Results<Ok<HeartbeatAck>, ProblemHttpResult>> AcceptAsync(
        HeartbeatIntake intake, ReceivedHeartbeat heartbeat, HttpContext context, TimeProvider time)
    {
        var peer = PeerAddress.Format(context.Connection.RemoteIpAddress);
        if (!await intake.AcceptAsync(heartbeat, peer))
        {
            return TypedResults.Problem(
                title: "Heartbeat not recorded",
                detail: "The server could not write its heartbeat log. Try again later.",
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        return TypedResults.Ok(new HeartbeatAck("ok", peer, time.GetUtcNow()));
    }

    public static ProblemHttpResult Invalid(HeartbeatError error) => TypedResults.Problem(
        title: "Invalid heartbeat",
        detail: error.Detail,
        statusCode: StatusCodes.Status400BadRequest,
        extensions: error.Field is null ? null : new Dictionary<string, object?> { ["field"] = error.Field });

    /// <summary>Buffers the body in the pipe (no copy) until it ends or passes the limit.</summary>
    private static async Task<ReadResult> ReadWholeBodyAsync(PipeReader reader, long maxBytes, CancellationToken cancellationToken)
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
