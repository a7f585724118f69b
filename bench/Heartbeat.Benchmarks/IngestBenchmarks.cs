using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Ingest;
using Heartbeat.Server.Logging;

namespace Heartbeat.Benchmarks;

/// <summary>The per-beat work of POST / apart from HTTP and I/O: parse and validate, format the log line, update the host.</summary>
[MemoryDiagnoser]
public class IngestBenchmarks
{
    private readonly ReadOnlySequence<byte> _body = new(Encoding.UTF8.GetBytes("""{"ip": "192.168.1.100", "host": "web1.example.org", "interval": 60}"""));
    private readonly ReceivedHeartbeat _heartbeat = new("192.168.1.100", "web1.example.org", TimeSpan.FromSeconds(60));
    private HostRegistry _registry = null!;

    [GlobalSetup]
    public void Setup()
    {
        // Check the results before timing them: a benchmark of a broken parser measures nothing.
        if (!HeartbeatParser.TryParse(_body, out var parsed, out _) || parsed != _heartbeat)
        {
            throw new InvalidOperationException("The benchmark body does not parse to the expected heartbeat.");
        }

        _registry = new HostRegistry(TimeProvider.System, new HostsOptions(), new HostEventFeed());
        _registry.RecordBeat(_heartbeat, "10.0.0.1");
        if (_registry.Find("web1.example.org") is null)
        {
            throw new InvalidOperationException("The registry did not record the beat.");
        }
    }

    [Benchmark]
    public bool Parse() => HeartbeatParser.TryParse(_body, out _, out _);

    [Benchmark]
    public string FormatLogLine() => LogLines.HeartbeatReceived("10.0.0.1", _heartbeat);

    [Benchmark]
    public int RecordBeatOfAKnownHost()
    {
        var events = _registry.RecordBeat(_heartbeat, "10.0.0.1");
        _registry.DrainChanges();
        return events.Count;
    }
}
