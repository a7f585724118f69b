using System.Reflection;

namespace Heartbeat.Server.Diagnostics;

// What the status page says about the server itself.
internal sealed class ServerStatus(TimeProvider time, ServerMetrics metrics)
{
    public static string Version { get; } =
        typeof(ServerStatus).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    // When the server started: it is resolved at start (see StartAsync).
    public DateTimeOffset StartedAt { get; } = time.GetUtcNow();

    public TimeSpan Uptime => time.GetUtcNow() - StartedAt;

    public long HeartbeatsReceived => (long)metrics.HeartbeatsReceived.Value;
}
