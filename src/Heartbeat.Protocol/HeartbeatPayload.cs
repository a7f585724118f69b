using System.Text.Json.Serialization;

namespace Heartbeat.Protocol;

/// <summary>The body of POST /, as a sender builds it. Absent fields are left out of the JSON.</summary>
public sealed record HeartbeatPayload(
    [property: JsonPropertyName("ip")] string? Ip = null,
    [property: JsonPropertyName("host")] string? Host = null,
    [property: JsonPropertyName("interval")] double? Interval = null,
    [property: JsonPropertyName("status")] string? Status = null,
    [property: JsonPropertyName("msg")] string? Msg = null,
    [property: JsonPropertyName("misses")] int? Misses = null,
    [property: JsonPropertyName("maintenance")] double? Maintenance = null,
    [property: JsonPropertyName("boot")] string? Boot = null,
    [property: JsonPropertyName("ts")] double? Ts = null,
    [property: JsonPropertyName("group")] string? Group = null);

/// <summary>The server's answer to an accepted heartbeat; <c>From</c> is the address the server sees the sender at.</summary>
public sealed record HeartbeatAck(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("from")] string From,
    [property: JsonPropertyName("time")] DateTimeOffset Time);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(HeartbeatPayload))]
[JsonSerializable(typeof(HeartbeatAck))]
public sealed partial class ProtocolJsonContext : JsonSerializerContext;
