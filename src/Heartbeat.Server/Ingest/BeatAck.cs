using System.Buffers;
using System.Reflection;
using System.Text.Json;
using Heartbeat.Protocol;
using Microsoft.AspNetCore.Http.Metadata;

namespace Heartbeat.Server.Ingest;

// The answer to an accepted beat, as Ok<HeartbeatAck> would write it, with its length: written from a buffer of the
// thread's own, where Ok<T> takes the JSON options from a service scope made for the request and a new JSON writer.
internal sealed class BeatAck(HeartbeatAck ack) : IResult, IStatusCodeHttpResult, IValueHttpResult<HeartbeatAck>, IEndpointMetadataProvider
{
    [ThreadStatic]
    private static (ArrayBufferWriter<byte> Buffer, Utf8JsonWriter Writer)? _json;

    public HeartbeatAck Value => ack;

    public int? StatusCode => StatusCodes.Status200OK;

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(HeartbeatAck), ["application/json"]));

    public Task ExecuteAsync(HttpContext context)
    {
        var (buffer, writer) = _json ??= NewJson();
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        JsonSerializer.Serialize(writer, ack, ProtocolJsonContext.Default.HeartbeatAck);

        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = buffer.WrittenCount;
        response.BodyWriter.Write(buffer.WrittenSpan);
        return Task.CompletedTask;
    }

    private static (ArrayBufferWriter<byte>, Utf8JsonWriter) NewJson()
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        return (buffer, new Utf8JsonWriter(buffer));
    }
}
