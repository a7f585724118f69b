using System.Net;
using Heartbeat.Server.Diagnostics;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Ingest;
using Heartbeat.Server.Logging;
using Heartbeat.Server.Notify;
using Heartbeat.Server.Security;
using Heartbeat.Server.Settings;
using Heartbeat.Server.Storage;

namespace Heartbeat.Server.Hosting;

// Everything the server is told at start, already parsed and validated.
internal sealed record ServerOptions
{
    // Every setting of the server, its own and those of its parts, in the order help lists them.
    public static readonly IReadOnlyList<Setting<ServerOptions>> Settings =
    [
        new ValueSetting<ServerOptions, int>
        {
            Name = "port", Variable = "HEARTBEAT_PORT", ValueName = "port", IsPositional = true,
            Help = "TCP port to listen on",
            Parse = ValueParsers.Int(0, IPEndPoint.MaxPort, "a port number", "; 0 picks a free port"),
            Get = o => o.Port, Set = (o, port) => o with { Port = port },
        },
        new ListSetting<ServerOptions, string>(',')
        {
            Name = "bind", Variable = "HEARTBEAT_BIND", ValueName = "address",
            Help = "Address to listen on, repeatable (e.g. 127.0.0.1, ::1, localhost); default: every interface",
            Parse = TryParseBindAddress,
            Set = (o, addresses) => o with { Bind = addresses },
        },
        .. Part(HeartbeatLogOptions.Settings, o => o.Log, (o, log) => o with { Log = log }),
        .. Part(IngestOptions.Settings, o => o.Ingest, (o, ingest) => o with { Ingest = ingest }),
        .. Part(StoreOptions.Settings, o => o.Store, (o, store) => o with { Store = store }),
        .. Part(HostsOptions.Settings, o => o.Hosts, (o, hosts) => o with { Hosts = hosts }),
        .. Part(NotifyOptions.Settings, o => o.Notify, (o, notify) => o with { Notify = notify }),
        .. Part(SecurityOptions.Settings, o => o.Security, (o, security) => o with { Security = security }),
        .. Part(DiagnosticsOptions.Settings, o => o.Diagnostics, (o, diagnostics) => o with { Diagnostics = diagnostics }),
    ];

    // The seed's port.
    public int Port { get; init; } = 7777;

    // Addresses to listen on; empty means every interface, IPv4 and IPv6, as the seed does.
    public IReadOnlyList<string> Bind { get; init; } = [];

    public HeartbeatLogOptions Log { get; init; } = new();

    public IngestOptions Ingest { get; init; } = new();

    public StoreOptions Store { get; init; } = new();

    public HostsOptions Hosts { get; init; } = new();

    public NotifyOptions Notify { get; init; } = new();

    public SecurityOptions Security { get; init; } = new();

    public DiagnosticsOptions Diagnostics { get; init; } = new();

    private static IEnumerable<Setting<ServerOptions>> Part<TPart>(
        IEnumerable<Setting<TPart>> settings, Func<ServerOptions, TPart> get, Func<ServerOptions, TPart, ServerOptions> set) where TPart : new() =>
        settings.Select(setting => setting.Within(get, set));

    private static bool TryParseBindAddress(string text, out string address, out string error)
    {
        address = text;
        error = text == "localhost" || IPAddress.TryParse(text, out _) ? string.Empty : $"'{text}' is not an IP address or 'localhost'";
        return error.Length == 0;
    }
}
