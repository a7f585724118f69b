using Heartbeat.Server.Diagnostics;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Logging;
using Heartbeat.Server.Security;
using Heartbeat.Server.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Prometheus;

namespace Heartbeat.Server.Web;

/// <summary>GET /metrics for Prometheus, and GET /healthz for load balancers and systemd watchdogs.</summary>
internal static class OperationsEndpoints
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
        var services = app.ServiceProvider;
        var metrics = services.GetRequiredService<ServerMetrics>();
        metrics.Registry.AddBeforeCollectCallback(async cancellationToken =>
        {
            // Resolved at the first scrape, not while the app is built: the registry needs the log, opened at start-up.
            var registry = services.GetRequiredService<HostRegistry>();
            var store = services.GetRequiredService<IHostStore>();
            foreach (var (state, count) in registry.CountByState())
            {
                metrics.Hosts.WithLabels(ApiNames.Of(state)).Set(count);
            }

            metrics.NotificationsWaiting.Set((await store.ReadNotifierStatsAsync(cancellationToken)).Sum(s => s.Pending));
        });
        app.MapMetrics("/metrics", metrics.Registry).WithMetadata(new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head])).RequireAuthorization(Access.Read);
        app.MapHealthChecks("/healthz").WithMetadata(new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head])).ServesAnyHost();
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
