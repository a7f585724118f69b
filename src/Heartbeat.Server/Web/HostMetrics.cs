using Heartbeat.Server.Diagnostics;
using Heartbeat.Server.Hosts;

namespace Heartbeat.Server.Web;

// The per-host series of /metrics, computed at scrape time from the registry's listing: a beat costs nothing more.
// Trouble comes first in the listing, so past --metrics-max-hosts the hosts left out are the ones that are fine.
// Series of a host that is gone (forgotten, moved to another group, left out) are removed at the next scrape.
internal sealed class HostMetrics(ServerMetrics metrics, HostRegistry registry, HostsOptions hosts, DiagnosticsOptions options)
{
    private readonly Lock _lock = new();
    private Dictionary<(string Host, string Group), HostState> _exported = [];

    // Up: beating, or late but not yet past its grace. Not up: down, failing, pending (expected, never seen) and
    // maintenance (silent during its window). heartbeat_host_state tells those apart.
    public static bool IsUp(HostState state) => state is HostState.Up or HostState.Late;

    public void Collect()
    {
        var limit = options.MetricsMaxHosts == 0 ? int.MaxValue : options.MetricsMaxHosts;
        Func<HostRecord, Sample> sample = host => new Sample(
            HostQuery.GroupOf(host) ?? string.Empty,
            host.State,
            host.Beats > 0 ? host.LastSeen.ToUnixTimeMilliseconds() / 1000.0 : 0,
            Liveness.Expected(host, hosts).Interval.TotalSeconds);
        lock (_lock)
        {
            var listing = registry.Index.Current;
            var exported = new Dictionary<(string Host, string Group), HostState>(Math.Min(listing.Hosts.Count, limit));
            foreach (var place in listing.Hosts)
            {
                if (exported.Count == limit)
                {
                    break;
                }

                if (!registry.TryRead(place.Id!, sample, out var host))
                {
                    continue; // forgotten since the listing was made
                }

                var key = (place.Id!, host.Group);
                metrics.HostUp.WithLabels(key.Item1, key.Item2).Set(IsUp(host.State) ? 1 : 0);
                metrics.HostLastSeen.WithLabels(key.Item1, key.Item2).Set(host.LastSeen);
                metrics.HostInterval.WithLabels(key.Item1, key.Item2).Set(host.IntervalSeconds);
                if (_exported.TryGetValue(key, out var was) && was != host.State)
                {
                    metrics.HostState.RemoveLabelled(key.Item1, key.Item2, ApiNames.Of(was));
                }

                metrics.HostState.WithLabels(key.Item1, key.Item2, ApiNames.Of(host.State)).Set(1);
                exported[key] = host.State;
            }

            foreach (var ((id, group), state) in _exported)
            {
                if (!exported.ContainsKey((id, group)))
                {
                    metrics.HostUp.RemoveLabelled(id, group);
                    metrics.HostLastSeen.RemoveLabelled(id, group);
                    metrics.HostInterval.RemoveLabelled(id, group);
                    metrics.HostState.RemoveLabelled(id, group, ApiNames.Of(state));
                }
            }

            _exported = exported;
            metrics.HostSeriesOmitted.Set(Math.Max(0, listing.Hosts.Count - exported.Count));
        }
    }

    private readonly record struct Sample(string Group, HostState State, double LastSeen, double IntervalSeconds);
}
