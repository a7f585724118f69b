using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Microsoft.Extensions.Primitives;

namespace Heartbeat.Server.Security;

// The Host names the page answers to: IP literals, localhost, the machine's own names, and those of --public-url
// and --allowed-host. A DNS-rebinding page can point a name of its own at the server, but cannot make the browser
// send one of these.
internal sealed class HostNames
{
    private static readonly TimeSpan LookupWait = TimeSpan.FromSeconds(2);

    private readonly List<StringSegment> _names;
    private readonly Task<StringSegment[]> _looked;
    private volatile StringSegment[] _allowed;

    public HostNames(SecurityOptions options)
    {
        var machine = Dns.GetHostName();
        _names = ["localhost", "*.localhost", machine];
        _allowed = AllowedOf(options);
        var domain = IPGlobalProperties.GetIPGlobalProperties().DomainName;
        if (!machine.Contains('.', StringComparison.Ordinal) && domain.Length > 0 && domain != "(none)")
        {
            _names.Add($"{machine}.{domain}");
        }

        if (options.PublicUrl is { } url)
        {
            _names.Add(url.IdnHost);
            PublicOrigin = url.GetLeftPart(UriPartial.Authority);
        }

        // The names DNS gives this machine, looked up once, in the background: a slow resolver must not hold up the start.
        _looked = LookUpAsync(machine);
    }

    // The scheme, name and port people reach the server at, which a proxy in front of it may not pass on as the Host.
    public string? PublicOrigin { get; }

    // The --allowed-host names of a configuration read again (SIGHUP); --public-url's stays.
    public void Use(SecurityOptions options) => _allowed = AllowedOf(options);

    public async ValueTask<bool> AllowsAsync(HostString host)
    {
        var name = host.Host;
        if (name.Length == 0 || IPAddress.TryParse(name.Trim('[', ']'), out _) || HostString.MatchesAny(name, _names) || HostString.MatchesAny(name, _allowed))
        {
            return true; // no name (HTTP/1.0), an address, or one of ours
        }

        try
        {
            return HostString.MatchesAny(name, await _looked.WaitAsync(LookupWait));
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private static StringSegment[] AllowedOf(SecurityOptions options) => [.. options.AllowedHosts.Select(n => new StringSegment(n))];

    private static async Task<StringSegment[]> LookUpAsync(string machine)
    {
        try
        {
            var entry = await Dns.GetHostEntryAsync(machine);
            return [entry.HostName, .. entry.Aliases.Select(a => new StringSegment(a))];
        }
        catch (SocketException)
        {
            return [];
        }
    }
}
