using System.Net;
using System.Net.Sockets;

namespace Heartbeat.Agent;

// Finds the IP this machine reports.
internal static class AddressDiscovery
{
    // The address of the interface that routes to the server: a UDP socket's local end after connect().
    // Connecting a UDP socket only picks a route; no packet is sent.
    public static async Task<IPAddress> RouteToAsync(Uri server, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(server.IdnHost, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(server.IdnHost, cancellationToken);
        var target = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault()
            ?? throw new InvalidOperationException($"{server.Host} has no address.");
        using var socket = new Socket(target.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Connect(target, server.Port);
        var local = ((IPEndPoint)socket.LocalEndPoint!).Address;
        return local.IsIPv4MappedToIPv6 ? local.MapToIPv4() : local;
    }

    // The public address as a plain-text echo service the user names (e.g. https://ifconfig.me/ip) sees it.
    public static async Task<IPAddress> FromEchoServiceAsync(HttpClient http, Uri echo, CancellationToken cancellationToken)
    {
        var text = (await http.GetStringAsync(echo, cancellationToken)).Trim();
        return IPAddress.TryParse(text, out var address)
            ? address
            : throw new InvalidOperationException($"{echo} answered '{(text.Length > 60 ? text[..60] + "…" : text)}', not an IP address.");
    }
}
