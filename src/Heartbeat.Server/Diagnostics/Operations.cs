using Heartbeat.Server.Hosts;
using Heartbeat.Server.Logging;
using Heartbeat.Server.Security;
using Heartbeat.Server.Storage;
using Heartbeat.Server.Web;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Prometheus;

namespace Heartbeat.Server.Diagnostics;

/// <summary>GET /metrics for Prometheus, and GET /healthz for load balancers and systemd watchdogs.</summary>
internal static class Operations
{
    public static IServiceCollection AddOperations(this IServiceCollection services)
    {
        services.AddSingleton<ServerMetrics>();
        services.AddHealthChecks()
            .AddCheck<LogHealthCheck>("heartbeat-log")
            .AddCheck<StoreHealthCheck>("store");
        return services;
    }

    public static IEndpointRouteBuilder MapOperations(this IEndpointRouteBuilder app)
    {
        var metrics = app.ServiceProvider.GetRequiredService<ServerMetrics>();
        var registry = app.ServiceProvider.GetRequiredService<HostRegistry>();
        var store = app.ServiceProvider.GetRequiredService<IHostStore>();
        metrics.Registry.AddBeforeCollectCallback(async cancellationToken =>
        {
            foreach (var (state, count) in registry.CountByState())
            {
                metrics.Hosts.WithLabels(ApiNames.Of(state)).Set(count);
            }

            metrics.NotificationsWaiting.Set((await store.ReadNotifierStatsAsync(cancellationToken)).Sum(s => s.Pending));
        });
        app.MapMetrics("/metrics", metrics.Registry).RequireRead();
        app.MapHealthChecks("/healthz");
        return app;
    }

    private sealed class LogHealthCheck(HeartbeatLog log) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(log.LastWriteFailed
                ? HealthCheckResult.Unhealthy("The last write to the heartbeat log failed.")
                : HealthCheckResult.Healthy());
    }

    private sealed class StoreHealthCheck(IHostStore store) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await store.CheckAsync(cancellationToken);
                return HealthCheckResult.Healthy();
            }
#pragma warning disable CA1031 // Whatever the store says, the answer is "unhealthy", not a 500.
            catch (Exception e)
#pragma warning restore CA1031
            {
                return HealthCheckResult.Unhealthy("The store cannot be reached.", e);
            }
        }
    }
}
