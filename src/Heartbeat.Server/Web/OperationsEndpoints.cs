using System.Globalization;
using Heartbeat.Server.Diagnostics;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Logging;
using Heartbeat.Server.Security;
using Heartbeat.Server.Settings;
using Heartbeat.Server.Storage;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Prometheus;

namespace Heartbeat.Server.Web;

// GET /metrics for Prometheus, and GET /healthz for load balancers and systemd watchdogs.
internal static class OperationsEndpoints
{
    public static IServiceCollection AddOperations(this IServiceCollection services)
    {
        services.AddSingleton<ServerMetrics>();
        services.AddSingleton<HostMetrics>();
        services.AddHealthChecks()
            .AddCheck<LogHealthCheck>("heartbeat-log")
            .AddCheck<StoreHealthCheck>("store");
        return services;
    }

    public static IEndpointRouteBuilder MapOperations(this IEndpointRouteBuilder app)
    {
        var services = app.ServiceProvider;
        var metrics = services.GetRequiredService<ServerMetrics>();
        metrics.SetBuildInfo(ServerStatus.Version, ValueParsers.Name(services.GetRequiredService<StoreOptions>().Kind));
        metrics.Registry.AddBeforeCollectCallback(async cancellationToken =>
        {
            // Resolved at the first scrape, not while the app is built: the registry needs the log, opened at start-up.
            var registry = services.GetRequiredService<HostRegistry>();
            var store = services.GetRequiredService<IHostStore>();
            foreach (var (state, count) in registry.CountByState())
            {
                metrics.Hosts.WithLabels(ApiNames.Of(state)).Set(count);
            }

            services.GetRequiredService<HostMetrics>().Collect();
            var limits = services.GetRequiredService<HostsOptions>();
            metrics.HostsMax.Set(limits.MaxHosts);
            metrics.PingBodyBytes.Set(services.GetRequiredService<PingBodies>().Bytes);
            metrics.PingBodyBytesMax.Set(limits.MaxBodyMemory);

            metrics.NotificationsWaiting.Set((await store.ReadNotifierStatsAsync(cancellationToken)).Sum(s => s.Pending));
            var status = services.GetRequiredService<HeartbeatLog>().Status;
            metrics.LogWritable.Set(status.Writable ? 1 : 0);
            metrics.LogLastWrite.Set(status.LastWrite?.ToUnixTimeMilliseconds() / 1000.0 ?? 0);
            var storeStatus = services.GetRequiredService<IStoreWriter>().Status;
            metrics.StoreWritable.Set(storeStatus.Writable ? 1 : 0);
            metrics.StoreLastWrite.Set(storeStatus.LastWrite?.ToUnixTimeMilliseconds() / 1000.0 ?? 0);
        });
        app.MapMetrics("/metrics", metrics.Registry).WithMetadata(new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head])).RequireAuthorization(Access.Read);
        app.MapHealthChecks("/healthz", new HealthCheckOptions { ResponseWriter = HealthReportJson.WriteAsync })
            .WithMetadata(new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head])).ServesAnyHost();
        return app;
    }

    // Asks the writer to find its file and, after a failure, whether there is room again: a deleted log is recreated here.
    private sealed class LogHealthCheck(HeartbeatLog log) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await log.CheckAsync().WaitAsync(cancellationToken);
            }
            catch (HeartbeatLogException)
            {
                // Recorded in the status read below.
            }

            var status = log.Status;
            var data = new Dictionary<string, object>
            {
                ["path"] = log.Path,
                ["lastWrite"] = Format(status.LastWrite),
                ["lastError"] = status.LastError?.Message ?? string.Empty,
                ["lastErrorAt"] = Format(status.LastError?.At),
            };
            return status.Writable
                ? HealthCheckResult.Healthy("The heartbeat log takes lines.", data)
                : HealthCheckResult.Unhealthy($"The heartbeat log cannot be written: {status.LastError?.Message}", data: data);
        }
    }

    // The store answers, and the last write to it went through (a failed one is kept in memory and tried again).
    private sealed class StoreHealthCheck(IHostStore store, IStoreWriter writer) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var status = writer.Status;
            var data = new Dictionary<string, object>
            {
                ["store"] = store.Description,
                ["lastWrite"] = Format(status.LastWrite),
                ["lastError"] = status.LastError?.Message ?? string.Empty,
                ["lastErrorAt"] = Format(status.LastError?.At),
            };
            try
            {
                await store.CheckAsync(cancellationToken);
            }
#pragma warning disable CA1031 // Whatever the store says, the answer is "unhealthy", not a 500.
            catch (Exception e)
#pragma warning restore CA1031
            {
                return HealthCheckResult.Unhealthy($"The store cannot be reached: {e.Message}", data: data);
            }

            return status.Writable
                ? HealthCheckResult.Healthy("The store takes writes.", data)
                : HealthCheckResult.Unhealthy($"The store cannot be written: {status.LastError?.Message}", data: data);
        }
    }

    private static string Format(DateTimeOffset? time) => time?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture) ?? string.Empty;
}
