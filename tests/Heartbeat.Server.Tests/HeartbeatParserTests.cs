using System.Buffers;
using System.Net;
using System.Text;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Ingest;
using Heartbeat.Server.Logging;

namespace Heartbeat.Server.Tests;

public sealed class HeartbeatParserTests
{
    [Fact]
    public void EveryFieldOfTheWireFormatIsRead()
    {
        var heartbeat = Parse("""{"ip": "192.168.1.53", "host": "web1", "interval": 90, "status": "fail", "msg": "disk 97% full"}""");

        Assert.Equal(new ReceivedHeartbeat("192.168.1.53", "web1", TimeSpan.FromSeconds(90), HeartbeatStatus.Fail, "disk 97% full"), heartbeat);
    }

    [Fact]
    public void ABodySplitAcrossNetworkSegmentsParsesTheSame()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"ip": "10.0.0.1", "host": "split"}""");
        var first = new Segment(bytes.AsMemory(0, 7));
        var last = first.Append(bytes.AsMemory(7));

        Assert.True(HeartbeatParser.TryParse(new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length), out var heartbeat, out _));
        Assert.Equal(new ReceivedHeartbeat("10.0.0.1", "split"), heartbeat);
    }

    [Theory]
    [InlineData("2001:DB8:0:0:0:0:0:1", "2001:db8::1")]
    [InlineData("::FFFF:10.1.2.3", "::ffff:10.1.2.3")]
    [InlineData("0.0.0.0", "0.0.0.0")]
    public void ReportedAddressesAreKeptInCanonicalForm(string sent, string logged) =>
        Assert.Equal(logged, Parse($$"""{"ip": "{{sent}}"}""").Ip);

    [Fact]
    public void EscapedCharactersAreUnescapedBeforeTheyAreChecked()
    {
        Assert.Equal("web1", Parse("""{"host": "web\u0031"}""").Host);
        Assert.False(HeartbeatParser.TryParse(Bytes("""{"host": "web\u000a1"}"""), out _, out var error));
        Assert.Equal("host", error.Field);
    }

    [Fact]
    public void SeedLineIsFormattedWordForWord()
    {
        Assert.Equal(
            "Received heartbeat - From: 192.168.1.53, Reported IP: 192.168.1.53",
            LogLines.HeartbeatReceived("192.168.1.53", ip: "192.168.1.53", host: null));
        Assert.Equal(
            "Received heartbeat - From: 10.0.0.9, Reported IP: -, Host: nas",
            LogLines.HeartbeatReceived("10.0.0.9", ip: null, host: "nas"));
        Assert.Equal("Server started, listening on port 7777", LogLines.ServerStarted(7777));
    }

    [Theory]
    [InlineData("::ffff:10.1.2.3", "10.1.2.3")]
    [InlineData("127.0.0.1", "127.0.0.1")]
    [InlineData("::1", "::1")]
    public void PeerAddressesShowIPv4MappedAsPlainIPv4(string peer, string shown) =>
        Assert.Equal(shown, PeerAddress.Format(IPAddress.Parse(peer)));

    private static ReceivedHeartbeat Parse(string json)
    {
        Assert.True(HeartbeatParser.TryParse(Bytes(json), out var heartbeat, out var error), error?.Detail);
        return heartbeat;
    }

    private static ReadOnlySequence<byte> Bytes(string json) => new(Encoding.UTF8.GetBytes(json));

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
