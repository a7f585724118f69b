using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Ingest;
using Heartbeat.Server.Logging;

namespace Heartbeat.Benchmarks;

/// <summary>The per-beat work of POST / apart from HTTP and I/O: parse and validate, format the log line, apply the beat to its host.</summary>
[MemoryDiagnoser]
public class IngestBenchmarks
{
    private readonly ReadOnlySequence<byte> _body = new(Encoding.UTF8.GetBytes("""{"ip": "192.168.1.100", "host": "web1.example.org", "interval": 60}"""));
    private readonly ReceivedHeartbeat _heartbeat = new("192.168.1.100", "web1.example.org", TimeSpan.FromSeconds(60));
    private readonly HostTransitions _transitions = new(new HostsOptions(), new EventLines(TimeZoneInfo.Utc));
    private readonly HostRecord _host = new("web1.example.org");
    private readonly HostClock _clock = new(TimeProvider.System);

    [GlobalSetup]
    public void Setup()
    {
        // Check the results before timing them: a benchmark of a broken parser measures nothing.
        if (!HeartbeatParser.TryParse(_body, out var parsed, out _) || parsed != _heartbeat)
        {
            throw new InvalidOperationException("The benchmark body does not parse to the expected heartbeat.");
        }

        _transitions.Beat(_host, _heartbeat, "10.0.0.1", _clock.Read(), new HostOutcome());
        if (_host.Beats != 1 || _host.ReportedIp != "192.168.1.100")
        {
            throw new InvalidOperationException("The beat was not applied to its host.");
        }
    }

    [Benchmark]
    public bool Parse() => HeartbeatParser.TryParse(_body, out _, out _);

    [Benchmark]
    public string FormatLogLine() => LogLines.HeartbeatReceived("10.0.0.1", _heartbeat.Ip, _heartbeat.Host);

    [Benchmark]
    public int BeatOfAKnownHost()
    {
        var outcome = new HostOutcome();
        _transitions.Beat(_host, _heartbeat, "10.0.0.1", _clock.Read(), outcome);
        return outcome.Events.Count;
    }
}
