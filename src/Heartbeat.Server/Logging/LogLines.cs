using System.Globalization;
using Heartbeat.Server.Ingest;

namespace Heartbeat.Server.Logging;

/// <summary>
/// The messages of the heartbeat log, word for word as the seed writes them; the writer adds the
/// "yyyy-MM-dd HH:mm:ss - " prefix. Existing greps and log parsers depend on this shape.
/// </summary>
internal static class LogLines
{
    public const string TimestampFormat = "yyyy-MM-dd HH:mm:ss";

    public static string ServerStarted(int port) =>
        string.Create(CultureInfo.InvariantCulture, $"Server started, listening on port {port}");

    public static string HeartbeatReceived(string peer, ReceivedHeartbeat heartbeat) => heartbeat.Host is null
        ? $"Received heartbeat - From: {peer}, Reported IP: {heartbeat.Ip ?? "-"}"
        : $"Received heartbeat - From: {peer}, Reported IP: {heartbeat.Ip ?? "-"}, Host: {heartbeat.Host}";
}
