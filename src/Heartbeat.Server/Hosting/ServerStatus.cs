using System.Reflection;
using Heartbeat.Server.Diagnostics;

namespace Heartbeat.Server.Hosting;

/// <summary>What the status page says about the server itself.</summary>
internal sealed class ServerStatus(TimeProvider time, ServerMetrics metrics)
{
    public static string Version { get; } =
        typeof(ServerStatus).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>When the server started: it is resolved at start (see <see cref="ServerRunner.StartAsync"/>).</summary>
    public DateTimeOffset StartedAt { get; } = time.GetUtcNow();

    public TimeSpan Uptime => time.GetUtcNow() - StartedAt;

    public long HeartbeatsReceived => (long)metrics.HeartbeatsReceived.Value;
}
