using System.Net;

namespace Heartbeat.Server.Ingest;

internal static class PeerAddress
{
    // The client's address as the seed shows it: IPv4-mapped IPv6 (::ffff:1.2.3.4) as plain IPv4.
    public static string Format(IPAddress? address) => address switch
    {
        null => "-",
        { IsIPv4MappedToIPv6: true } => address.MapToIPv4().ToString(),
        _ => address.ToString(),
    };
}
