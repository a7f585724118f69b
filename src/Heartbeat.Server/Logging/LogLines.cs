using System.Globalization;
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

    /// <param name="peer">Where the beat came from.</param>
    /// <param name="ip">The address the beat reported, or null.</param>
    /// <param name="host">The name the beat gave, or null.</param>
    public static string HeartbeatReceived(string peer, string? ip, string? host) => host is null
        ? $"Received heartbeat - From: {peer}, Reported IP: {ip ?? "-"}"
        : $"Received heartbeat - From: {peer}, Reported IP: {ip ?? "-"}, Host: {host}";
}
