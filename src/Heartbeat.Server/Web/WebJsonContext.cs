using System.Text.Json;
using System.Text.Json.Serialization;

namespace Heartbeat.Server.Web;

/// <summary>Answer to an accepted heartbeat; <c>From</c> tells an agent the address the server sees it at.</summary>
internal sealed record HeartbeatAck(string Status, string From, DateTimeOffset Time);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(HeartbeatAck))]
internal sealed partial class WebJsonContext : JsonSerializerContext;
