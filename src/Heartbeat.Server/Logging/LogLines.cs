using System.Globalization;
namespace Heartbeat.Server.Logging;

// The messages of the heartbeat log, word for word as the seed writes them; the writer adds the
// "yyyy-MM-dd HH:mm:ss - " prefix. Existing greps and log parsers depend on this shape.
internal static class LogLines
{
    public const string TimestampFormat = "yyyy-MM-dd HH:mm:ss";

    public static string ServerStarted(int port) =>
        string.Create(CultureInfo.InvariantCulture, $"Server started, listening on port {port}");

    // peer: Where the beat came from.
    // ip: The address the beat reported, or null.
    // host: The name the beat gave, or null.
    public static string HeartbeatReceived(string peer, string? ip, string? host) => host is null
        ? $"Received heartbeat - From: {peer}, Reported IP: {ip ?? "-"}"
        : $"Received heartbeat - From: {peer}, Reported IP: {ip ?? "-"}, Host: {host}";
}
