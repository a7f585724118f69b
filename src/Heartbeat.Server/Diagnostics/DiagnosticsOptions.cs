using Heartbeat.Server.Settings;

namespace Heartbeat.Server.Diagnostics;

internal sealed record DiagnosticsOptions
{
    public static readonly IReadOnlyList<Setting<DiagnosticsOptions>> Settings =
    [
        new ValueSetting<DiagnosticsOptions, int>
        {
            Name = "metrics-max-hosts", Variable = "HEARTBEAT_METRICS_MAX_HOSTS", ValueName = "count",
            Help = "Most hosts with series of their own at /metrics (heartbeat_host_up…), trouble first; "
                + "the rest are counted in heartbeat_host_series_omitted; 0 = every host",
            Parse = ValueParsers.Int(0, 100_000_000, "a number of hosts", "; 0 exports every host"),
            Get = o => o.MetricsMaxHosts, Set = (o, max) => o with { MetricsMaxHosts = max },
        },
    ];

    // Five series a host: 10,000 hosts make a scrape of about 50,000 series (a few MB of text), about what one
    // Prometheus target is comfortable with; a larger fleet is better watched through heartbeat_hosts{state}.
    public int MetricsMaxHosts { get; init; } = 10_000;
}
