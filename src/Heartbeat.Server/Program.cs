using Heartbeat.Protocol;
using Heartbeat.Server.ApiDocs;
using Heartbeat.Server.Diagnostics;
using Heartbeat.Server.Hosting;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Ingest;
using Heartbeat.Server.Logging;
using Heartbeat.Server.Notify;
using Heartbeat.Server.Security;
using Heartbeat.Server.Storage;
using Heartbeat.Server.Web;
using Microsoft.Extensions.Configuration.Json;

return await ServerCommand.InvokeAsync(args, ServerRunner.RunAsync);

internal partial class Program
{
    // The whole server at a glance: what it is made of and which endpoints it serves.
    public static WebApplication BuildApp(ServerOptions options, TimeProvider time)
    {
        // Settings come from flags, HEARTBEAT_* variables and --config (see Settings/), not from an appsettings.json in
        // whatever directory the server was started in; nor is that directory watched for one, with every directory below
        // it: from systemd's "/", that was over 13,000 inotify watches, waking the server at every write on the machine.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = ServerCommand.Name,
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
        });
        foreach (var json in builder.Configuration.Sources.OfType<JsonConfigurationSource>().ToList())
        {
            builder.Configuration.Sources.Remove(json);
        }

        builder.Logging.UseServerConsole();
        builder.WebHost.UseHeartbeatKestrel(options);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(5));

        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton<ServerStatus>();
        builder.Services.AddOperations();
        builder.Services.AddSingleton(services => new HeartbeatLog(
            options.Log, time, services.GetRequiredService<ServerMetrics>(), services.GetRequiredService<ILogger<HeartbeatLog>>()));

        builder.Services.AddSingleton(options.Security);
        builder.Services.AddSingleton(options.Diagnostics);
        builder.Services.AddSingleton(options.Ingest);
        builder.Services.AddSingleton(services => new Tokens(options.Security, options.Security.TokensFile is { } file
            ? new HostTokensFile(file, time, services.GetRequiredService<ILogger<HostTokensFile>>())
            : null));
        builder.Services.AddSingleton<BeatGate>();
        builder.Services.AddAddressRateLimit(options.Security);
        builder.Services.AddAccessControl(options.Security);

        builder.Services.AddSingleton<HostEventFeed>();
        builder.Services.AddSingleton<HostClock>();
        builder.Services.AddSingleton(new EventLines(time.LocalTimeZone));
        builder.Services.AddSingleton<HostTransitions>();
        builder.Services.AddSingleton<ChangeQueue>();
        builder.Services.AddSingleton<HostEventSink>();
        builder.Services.AddSingleton<PingBodies>();
        builder.Services.AddSingleton<HostRegistry>();
        builder.Services.AddSingleton<HostAdmission>();
        builder.Services.AddSingleton<HeartbeatIntake>();
        builder.Services.AddSingleton<HostViews>();
        builder.Services.AddSingleton(options.Store);
        if (options.Store.Kind == StoreKind.Postgres)
        {
            // A fleet: the shared store decides every transition (and no site correlation: each server sees only part of a site's beats).
            builder.Services.AddSingleton(options.Hosts with { CorrelateSites = false });
            builder.Services.AddSingleton(services => PostgresHostStore.Open(
                options.Store.Postgres!, options.Notify.LongestAttempt, () => services.GetRequiredService<Notifiers>().Targets.Select(t => t.Key)));
            builder.Services.AddSingleton<IHostStore>(services => services.GetRequiredService<PostgresHostStore>());
            builder.Services.AddSingleton<FleetLedger>();
            builder.Services.AddSingleton<IHostLedger>(services => services.GetRequiredService<FleetLedger>());
            builder.Services.AddSingleton<FleetSync>();
            builder.Services.AddSingleton<IStoreWriter>(services => services.GetRequiredService<FleetSync>());
            builder.Services.AddHostedService(services => services.GetRequiredService<FleetSync>());
        }
        else
        {
            builder.Services.AddSingleton(options.Hosts);
            builder.Services.AddSingleton<IHostLedger>(services => services.GetRequiredService<HostRegistry>());
            builder.Services.AddHostedService<LivenessMonitor>();
            builder.Services.AddSingleton<IHostStore>(_ => options.Store.Kind == StoreKind.Memory
                ? SqliteHostStore.OpenInMemory()
                : SqliteHostStore.OpenFile(options.Store.Path));
            builder.Services.AddSingleton<StoreFlusher>();
            builder.Services.AddSingleton<IStoreWriter>(services => services.GetRequiredService<StoreFlusher>());
            builder.Services.AddHostedService(services => services.GetRequiredService<StoreFlusher>());
        }

        builder.Services.AddSingleton(options.Notify);
        builder.Services.AddWebhookClient();
        builder.Services.AddSingleton<Notifiers>();
        builder.Services.AddHostedService<NotificationDispatcher>();
        builder.Services.AddHostedService<HeapUpkeep>();

        builder.Services.AddProblemResponses();
        builder.Services.AddApiDocument();
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, ProtocolJsonContext.Default);
            json.SerializerOptions.TypeInfoResolverChain.Insert(1, ApiJsonContext.Default);
            json.SerializerOptions.TypeInfoResolverChain.Insert(2, PeerJsonContext.Default);
        });

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseTrustedProxies(options.Security);
        app.UseAllowList();
        app.UseRouting(); // from here on, each middleware knows the endpoint and what it asks for
        app.UseRateLimiter();
        app.UseBrowserGuard();
        app.RefuseDotSegmentHosts();

        // A beat skips what only the page and the API need, which would do no work for it; its refusals are counted.
        app.UseWhen(BrowserGuard.ReceivesBeat, beats => beats.UseRejectionCounting());
        app.UseWhen(context => !BrowserGuard.ReceivesBeat(context), web =>
        {
            web.UseStatusCodePages() // bare 404/405 answers get a problem+json body too
                .UseSecurityHeaders()
                .UseAccessControl();

            // WebApplication puts authentication and authorization in front of everything unless it sees them used, and
            // it does not look into branches (dotnet/aspnetcore#48098): the marks they leave are copied out of this one.
            foreach (var (key, value) in web.Properties)
            {
                ((IApplicationBuilder)app).Properties.TryAdd(key, value);
            }
        });

        app.MapIngest();
        app.MapPings();
        app.MapPeerIngress();
        app.MapStatusPage();
        app.MapHostPage();
        app.MapBadges();
        app.MapPublicStatus();
        app.MapLogin();
        app.MapHostsApi();
        app.MapHostSettings();
        app.MapNotifiersApi();
        app.MapOperations();
        app.MapApiDocument();
        return app;
    }
}
