using Heartbeat.Server.Hosts;
using Heartbeat.Server.Logging;
using Heartbeat.Server.Notify;
using Heartbeat.Server.Security;
using Heartbeat.Server.Storage;

namespace Heartbeat.Server.Hosting;

/// <summary>Everything the server is told at start, already parsed and validated.</summary>
internal sealed record ServerOptions
{
    public const int DefaultPort = 7777;

    // The seed's default body limit is none at all; 64 KiB is far above any real heartbeat (a few hundred bytes).
    public const long DefaultMaxBodyBytes = 64 * 1024;

    public int Port { get; init; } = DefaultPort;

    /// <summary>Addresses to listen on; empty means every interface, IPv4 and IPv6, as the seed does.</summary>
    public IReadOnlyList<string> Bind { get; init; } = [];

    public long MaxBodyBytes { get; init; } = DefaultMaxBodyBytes;

    public HeartbeatLogOptions Log { get; init; } = new();

    public StoreOptions Store { get; init; } = new();

    public HostsOptions Hosts { get; init; } = new();

    public NotifyOptions Notify { get; init; } = new();

    public SecurityOptions Security { get; init; } = new();
}
