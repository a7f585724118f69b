using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Prometheus;

namespace Heartbeat.Server.Diagnostics;

// The Prometheus metrics at GET /metrics. One registry per server instance (not prometheus-net's global
// one), so that servers in one process, as in the tests, each count their own.
internal sealed class ServerMetrics
{
    public ServerMetrics()
    {
        var metrics = Metrics.WithCustomRegistry(Registry);
        HeartbeatsReceived = metrics.CreateCounter("heartbeat_received_total", "Heartbeats accepted (answered 200).");
        HeartbeatsRejected = metrics.CreateCounter("heartbeat_rejected_total", "Requests refused, by reason.", "reason");
        Hosts = metrics.CreateGauge("heartbeat_hosts", "Known hosts, by state.", "state");
        Events = metrics.CreateCounter("heartbeat_events_total", "Host events, by kind.", "kind");
        Notifications = metrics.CreateCounter("heartbeat_notifications_total", "Notification delivery attempts, by result (delivered, failed, parked).", "result");
        NotificationsWaiting = metrics.CreateGauge("heartbeat_notifications_waiting", "Notifications in the outbox not yet delivered nor parked.");
        LogBatches = metrics.CreateCounter("heartbeat_log_batches_total", "Writes to the heartbeat log (each holds one or more lines).");
        LogWriteSeconds = metrics.CreateHistogram("heartbeat_log_write_seconds", "Time to write (and with --fsync, sync) one batch of log lines.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.00005, 2, 16) });
        LogWriteErrors = metrics.CreateCounter("heartbeat_log_write_errors_total", "Batches of log lines that could not be written (their beats were refused with 503).");
        LogReopens = metrics.CreateCounter("heartbeat_log_reopens_total", "Times the heartbeat log was reopened, by why: signal (SIGHUP), moved (gone from its path).", "reason");
        LogWritable = metrics.CreateGauge("heartbeat_log_writable", "1 while the heartbeat log takes lines, 0 after a failed write until one succeeds.");
        LogLastWrite = metrics.CreateGauge("heartbeat_log_last_write_timestamp_seconds", "When a batch was last written to the heartbeat log, in Unix seconds (0: not yet).");
        HostsMax = metrics.CreateGauge("heartbeat_hosts_max", "Most hosts the server tracks (--max-hosts): beats of new hosts past it are refused (reason host_limit).");
        PingBodyBytes = metrics.CreateGauge("heartbeat_ping_body_bytes", "Memory taken by the ping bodies kept (2 bytes a character).");
        PingBodyBytesMax = metrics.CreateGauge("heartbeat_ping_body_bytes_max", "Memory ping bodies may take together (--max-body-memory).");
        PingBodiesDropped = metrics.CreateCounter("heartbeat_ping_bodies_dropped_total", "Ping bodies not kept because kept bodies filled --max-body-memory.");
        StoreFlushSeconds = metrics.CreateHistogram("heartbeat_store_flush_seconds", "Time to write one batch of changes to the store.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0005, 2, 14) });
        StoreWriteErrors = metrics.CreateCounter("heartbeat_store_write_errors_total", "Writes to the store that failed (kept in memory and tried again), or found the store replaced.");
        StoreWritable = metrics.CreateGauge("heartbeat_store_writable", "1 while the store takes writes, 0 after a failed write until one succeeds.");
        StoreLastWrite = metrics.CreateGauge("heartbeat_store_last_write_timestamp_seconds", "When changes were last written to the store, in Unix seconds (0: not yet).");
        HostUp = metrics.CreateGauge("heartbeat_host_up", "1 while the host is up or late (not yet past its grace); 0 while it is down, failing, pending or silent in maintenance.", "host", "group");
        HostLastSeen = metrics.CreateGauge("heartbeat_host_last_seen_timestamp_seconds", "When the host's last beat came, in Unix seconds (0: never).", "host", "group");
        HostInterval = metrics.CreateGauge("heartbeat_host_interval_seconds", "The interval the host is judged by: configured, declared, learned or the default.", "host", "group");
        HostState = metrics.CreateGauge("heartbeat_host_state", "1, with the host's state: up, late, down, failing, maintenance or pending.", "host", "group", "state");
        HostSeriesOmitted = metrics.CreateGauge("heartbeat_host_series_omitted", "Hosts left out of the per-host series (--metrics-max-hosts), those that are fine first.");
        BuildInfo = metrics.CreateGauge("heartbeat_build_info", "1, with the server's version, commit, .NET runtime and store.", "version", "commit", "runtime", "store");

        // process_* and dotnet_*: read from the process and the GC at scrape time, so they work under NativeAOT too.
        DotNetStats.Register(Registry);
    }

    public CollectorRegistry Registry { get; } = Metrics.NewCustomRegistry();

    public Counter HeartbeatsReceived { get; }

    public Counter HeartbeatsRejected { get; }

    public Gauge Hosts { get; }

    public Counter Events { get; }

    public Counter Notifications { get; }

    public Gauge NotificationsWaiting { get; }

    public Counter LogBatches { get; }

    public Histogram LogWriteSeconds { get; }

    public Counter LogWriteErrors { get; }

    public Counter LogReopens { get; }

    public Gauge LogWritable { get; }

    public Gauge LogLastWrite { get; }

    public Histogram StoreFlushSeconds { get; }

    public Counter StoreWriteErrors { get; }

    public Gauge StoreWritable { get; }

    public Gauge StoreLastWrite { get; }

    public Gauge HostsMax { get; }

    public Gauge PingBodyBytes { get; }

    public Gauge PingBodyBytesMax { get; }

    public Counter PingBodiesDropped { get; }

    public Gauge HostUp { get; }

    public Gauge HostLastSeen { get; }

    public Gauge HostInterval { get; }

    public Gauge HostState { get; }

    public Gauge HostSeriesOmitted { get; }

    public Gauge BuildInfo { get; }

    // The informational version is "0.1.0+<commit>" when built from a git checkout (SourceLink adds the commit).
    public void SetBuildInfo(string version, string store)
    {
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        var runtime = RuntimeInformation.FrameworkDescription + (RuntimeFeature.IsDynamicCodeSupported ? string.Empty : " NativeAOT");
        BuildInfo.WithLabels(plus < 0 ? version : version[..plus], plus < 0 ? string.Empty : version[(plus + 1)..], runtime, store).Set(1);
    }

    public void Rejected(string reason) => HeartbeatsRejected.WithLabels(reason).Inc();
}
