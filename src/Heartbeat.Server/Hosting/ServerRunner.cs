using System.Net.Sockets;
using System.Runtime;
using System.Runtime.InteropServices;
using Heartbeat.Server.Diagnostics;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Ingest;
using Heartbeat.Server.Logging;
using Heartbeat.Server.Notify;
using Heartbeat.Server.Security;
using Heartbeat.Server.Storage;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Heartbeat.Server.Hosting;

// Runs the server from start-up to a clean stop, turning start-up failures into one clear line.
internal static partial class ServerRunner
{
    internal const long HoldCollectionsFrom = 64 << 20;

    // Exit code for a server that could not start (port taken, log not writable, …).
    public const int StartFailed = 1;

    public static async Task<int> RunAsync(ServerSettings settings, CancellationToken cancellationToken)
    {
        var options = settings.Options;
        await using var app = Program.BuildApp(options, TimeProvider.System);

        // SIGHUP, as logrotate's postrotate and systemctl reload send it: the log is reopened at its path and the settings
        // are read again (see ConfigReload), and the server keeps running (SIGHUP's default would end it). One that comes
        // while the server starts is handled once it is up.
        Running? running = null;
        var hangups = 0;
        void Hangups()
        {
            if (Volatile.Read(ref running) is { } server && Interlocked.Exchange(ref hangups, 0) > 0)
            {
                server.Log.Reopen();
                server.Config.Reload();
            }
        }

        using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, signal =>
        {
            signal.Cancel = true;
            Interlocked.Increment(ref hangups);
            Hangups();
        });

        var held = false;
        try
        {
            held = HoldCollections(app.Services.GetRequiredService<StoreOptions>());
            await StartAsync(app, cancellationToken);
        }
        catch (Exception e) when (Describe(e, options) is { } reason)
        {
            await Console.Error.WriteLineAsync($"{ServerCommand.Name}: {reason}");
            // Stopped, not just disposed: background services cancelled without a stop would be reported as crashed.
            await app.StopAsync(CancellationToken.None);
            return StartFailed;
        }

        var services = app.Services;
        var reload = new ConfigReload(
            settings, services.GetRequiredService<Tokens>(), services.GetRequiredService<AllowList>(), services.GetRequiredService<HostNames>(),
            services.GetRequiredService<Notifiers>(), services.GetRequiredService<HostRegistry>(), services.GetRequiredService<ILogger<ConfigReload>>());
        Volatile.Write(ref running, new Running(services.GetRequiredService<HeartbeatLog>(), reload));
        Hangups();

        // What start-up allocated (settings, routes, the store's rows read into hosts) is garbage now: it goes back to the
        // system at once, instead of being held until load next fills the young generation.
        if (held)
        {
            EndHold();
        }
        else
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }

        // Returns on SIGTERM or SIGINT, after Kestrel has finished the requests in flight;
        // disposing the app then writes out the last batch of the heartbeat log.
        await app.WaitForShutdownAsync(cancellationToken);
        return 0;
    }

    // Opens the log, starts listening, and writes the seed's start line with the port actually bound.
    public static async Task<int> StartAsync(WebApplication app, CancellationToken cancellationToken)
    {
        // Log, tokens and store are opened, and the hosts restored, before any port is taken.
        var log = app.Services.GetRequiredService<HeartbeatLog>();
        app.Services.GetRequiredService<Tokens>();
        var storeOptions = app.Services.GetRequiredService<StoreOptions>();
        var registry = app.Services.GetRequiredService<HostRegistry>();
        var (hosts, lastEventId) = await app.Services.GetRequiredService<IHostStore>().LoadAsync(cancellationToken);
        if (storeOptions.Kind == StoreKind.Postgres)
        {
            registry.Mirror(hosts, forgotten: []); // a fleet's store numbers its events itself
        }
        else
        {
            registry.Restore(hosts);
            app.Services.GetRequiredService<HostEventSink>().ContinueAfter(lastEventId);
        }

        app.Services.GetRequiredService<HostAdmission>().Restored();

        await app.StartAsync(cancellationToken);

        // The page's "Started" and "Uptime" count from here, the moment of the start line, not from its first view.
        app.Services.GetRequiredService<ServerStatus>();
        var addresses = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
        var port = new Uri(addresses.First()).Port;
        await log.AppendAsync(LogLines.ServerStarted(port));
        var changes = app.Services.GetRequiredService<SecurityOptions>().AdminToken is null
            ? "from this machine only (no --admin-token)"
            : "with the admin token";
        LogListening(app.Logger, addresses, log.Path, changes);

        return port;
    }

    // Restoring a large store allocates every host's objects at once, and nearly all of them stay: a collection in the
    // middle would only copy them from one generation to the next. So none runs while the server starts with a file of
    // more than HoldCollectionsFrom, within a budget of three times its size (a collection ends the hold early). The
    // collection after start-up ends the hold and takes the hosts to the old generation at once; ending it before would
    // have the next allocation collect them all once more, as young objects. True if the hold was taken.
    private static bool HoldCollections(StoreOptions options)
    {
        var file = new FileInfo(options.Path);
        if (options.Kind != StoreKind.Sqlite || !file.Exists || file.Length < HoldCollectionsFrom)
        {
            return false;
        }

        try
        {
            return GC.TryStartNoGCRegion(3 * file.Length);
        }
        catch (ArgumentOutOfRangeException)
        {
            // More than the GC can set aside: the restore collects as it goes.
            return false;
        }
    }

    // After a hold the hosts lie side by side with little garbage among them: a sweep is enough (compacting would move
    // every host, a second more with a million), and it runs in the background while the server already answers (a
    // blocking one held every request for 0.4 s more; bench/RESULTS.md).
    private static void EndHold()
    {
        try
        {
            if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
            {
                GC.EndNoGCRegion();
            }
        }
        catch (InvalidOperationException)
        {
            // A collection ended the hold already (the restore allocated more than its budget).
        }

        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: false);
    }

    private static string? Describe(Exception exception, ServerOptions options)
    {
        var port = options.Port;
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case AddressInUseException:
                    return $"port {port} is already in use by another program (see: lsof -i :{port}).";
                case SocketException { SocketErrorCode: SocketError.AccessDenied }:
                    return $"not allowed to listen on port {port}; ports below 1024 need root or CAP_NET_BIND_SERVICE.";
                case SocketException { SocketErrorCode: SocketError.AddressNotAvailable }:
                    return $"cannot listen on {string.Join(", ", options.Bind)}: no such address on this machine.";
                case System.Security.Cryptography.CryptographicException:
                    return $"cannot use the TLS certificate '{options.Security.TlsCertificate}' with the key '{options.Security.TlsKey}': {e.Message}";
                case StoreUnavailableException when options.Store.Kind == StoreKind.Postgres:
                    return $"{e.Message} (check the --postgres connection string, and that the database server is up)";
                case StoreUnavailableException:
                    return $"{e.Message} (choose another file with --data, or run without one with --store memory)";
                case UnauthorizedAccessException when Directory.Exists(options.Log.Path):
                    return $"cannot open the heartbeat log '{options.Log.Path}': it is a directory; give a file path.";
                case UnauthorizedAccessException or DirectoryNotFoundException when !options.Log.IsStandardOutput:
                    return $"cannot open the heartbeat log '{options.Log.Path}': {e.Message}";
            }
        }

        return exception is IOException or InvalidDataException ? exception.Message : null;
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Listening on {Addresses}; heartbeat log: {LogPath}; changes (forget, maintenance, notifier tests) allowed {Changes}")]
    private static partial void LogListening(ILogger logger, ICollection<string> addresses, string logPath, string changes);

    private sealed record Running(HeartbeatLog Log, ConfigReload Config);
}
