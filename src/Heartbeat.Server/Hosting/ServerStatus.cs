using System.Reflection;

namespace Heartbeat.Server.Hosting;

/// <summary>What the status page says about the server itself.</summary>
internal sealed class ServerStatus(TimeProvider time)
{
    private long _heartbeatsReceived;

    public static string Version { get; } =
        typeof(ServerStatus).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public DateTimeOffset StartedAt { get; } = time.GetUtcNow();

    public TimeSpan Uptime => time.GetUtcNow() - StartedAt;

    public long HeartbeatsReceived => Interlocked.Read(ref _heartbeatsReceived);

    public void CountHeartbeat() => Interlocked.Increment(ref _heartbeatsReceived);
}
