using System.IO.Pipelines;
using Heartbeat.Protocol;
using Heartbeat.Server.Hosting;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Ingest;
using Heartbeat.Server.Logging;
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
        HttpContext context,
        ServerOptions options,
        HeartbeatLog log,
        HostRegistry registry,
        ServerStatus status,
        TimeProvider time,
        CancellationToken cancellationToken)
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
        HeartbeatError? error;
        try
        {
            if (body.Buffer.Length > options.MaxBodyBytes)
            {
                return BodyTooLarge(options.MaxBodyBytes);
            }

            if (!HeartbeatParser.TryParse(body.Buffer, out heartbeat, out error))
            {
                return TypedResults.Problem(
                    title: "Invalid heartbeat",
                    detail: error.Detail,
                    statusCode: StatusCodes.Status400BadRequest,
                    extensions: error.Field is null ? null : new Dictionary<string, object?> { ["field"] = error.Field });
            }
        }
        finally
        {
            reader.AdvanceTo(body.Buffer.End);
        }

        var peer = PeerAddress.Format(context.Connection.RemoteIpAddress);
        var events = registry.RecordBeat(heartbeat, peer);
        try
        {
            // The beat's line and the lines of the events it caused go out together, in that order. Not
            // cancelled with the request: once accepted, the beat is written even if the client hangs up.
            await log.AppendAsync([LogLines.HeartbeatReceived(peer, heartbeat), .. events.Select(e => e.Summary)]);
        }
        catch (HeartbeatLogException)
        {
            return TypedResults.Problem(
                title: "Heartbeat not recorded",
                detail: "The server could not write its heartbeat log. Try again later.",
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        status.CountHeartbeat();
        return TypedResults.Ok(new HeartbeatAck("ok", peer, time.GetUtcNow()));
    }

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
