using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;
using Heartbeat.Protocol;
using Heartbeat.Server.Settings;

namespace Heartbeat.Server.Security;

// Everything off by default, as the seed is open; each control is one option away.
internal sealed record SecurityOptions
{
    // Declared before the settings that use it: static fields are set in order.
    private static readonly ValueParser<int> Rate = ValueParsers.Int(0, 1_000_000, "a rate", " per second");

    public static readonly IReadOnlyList<Setting<SecurityOptions>> Settings =
    [
        new ValueSetting<SecurityOptions, string>
        {
            Name = "token", Variable = "HEARTBEAT_TOKEN", ValueName = "token", IsSecret = true,
            Help = "Every beat must carry this token (Authorization: Bearer, a \"token\" field, or ?token= on ping URLs)",
            Parse = ValueParsers.Text,
            Get = o => o.Token, Set = (o, token) => o with { Token = token },
        },
        new ValueSetting<SecurityOptions, string>
        {
            Name = "tokens", Variable = "HEARTBEAT_TOKENS_FILE", ValueName = "file",
            Help = "File of 'host token' lines: a beat for a host must carry its token; reloaded when it changes",
            Parse = ValueParsers.Text,
            Get = o => o.TokensFile, Set = (o, file) => o with { TokensFile = file },
        },
        new ValueSetting<SecurityOptions, string>
        {
            Name = "read-token", Variable = "HEARTBEAT_READ_TOKEN", ValueName = "token", IsSecret = true,
            Help = "Reading (status page, API, events, metrics) needs this token (or the admin token)",
            Parse = ValueParsers.Text,
            Get = o => o.ReadToken, Set = (o, token) => o with { ReadToken = token },
        },
        new ValueSetting<SecurityOptions, string>
        {
            Name = "admin-token", Variable = "HEARTBEAT_ADMIN_TOKEN", ValueName = "token", IsSecret = true,
            Help = "Every change but a beat (forgetting hosts, maintenance, host settings, test notifications) needs this token; without it, changes are allowed from this machine only",
            Parse = ValueParsers.Text,
            Get = o => o.AdminToken, Set = (o, token) => o with { AdminToken = token },
        },
        new ValueSetting<SecurityOptions, Uri>
        {
            Name = "public-url", Variable = "HEARTBEAT_PUBLIC_URL", ValueName = "url",
            Help = "The address people reach the page at (e.g. https://status.example.org/): the page answers to its name, and trusts forms from it",
            Parse = TryParsePublicUrl,
            Get = o => o.PublicUrl, Set = (o, url) => o with { PublicUrl = url },
        },
        new ValueSetting<SecurityOptions, bool>
        {
            Name = "public-badges", Variable = "HEARTBEAT_PUBLIC_BADGES", ValueName = "bool",
            Help = "Serve the status badges (/badge/HOST.svg, .json, /badge/group/GROUP.svg) to anyone, without a read token",
            Parse = ValueParsers.Bool,
            Get = o => o.PublicBadges, Set = (o, on) => o with { PublicBadges = on },
        },
        new ListSetting<SecurityOptions, string>(',')
        {
            Name = "public-status", Variable = "HEARTBEAT_PUBLIC_STATUS", ValueName = "group",
            Help = "Show these groups' hosts, read-only and without a token, at /status, repeatable; nothing else opens",
            Parse = TryParseGroup,
            Set = (o, groups) => o with { PublicStatus = groups },
        },
        new ListSetting<SecurityOptions, string>(',')
        {
            Name = "allowed-host", Variable = "HEARTBEAT_ALLOWED_HOSTS", ValueName = "name",
            Help = "Another name the page, API and metrics answer to, repeatable (*.example.org for a domain; * for any); beats come in under any name",
            Parse = TryParseHostName,
            Set = (o, names) => o with { AllowedHosts = names },
        },
        new ListSetting<SecurityOptions, IPNetwork>(',')
        {
            Name = "allow", Variable = "HEARTBEAT_ALLOW", ValueName = "cidr",
            Help = "Only these source networks may send beats or read, repeatable (e.g. 192.168.0.0/16, 2001:db8::/32)",
            Parse = TryParseNetwork,
            Set = (o, networks) => o with { Allow = networks },
        },
        new ListSetting<SecurityOptions, IPNetwork>(',')
        {
            Name = "trust-proxy", Variable = "HEARTBEAT_TRUST_PROXY", ValueName = "cidr",
            Help = "Believe X-Forwarded-For only from these proxies' networks, repeatable (never otherwise)",
            Parse = TryParseNetwork,
            Set = (o, networks) => o with { TrustProxy = networks },
        },
        new ValueSetting<SecurityOptions, int>
        {
            Name = "rate-limit", Variable = "HEARTBEAT_RATE_LIMIT", ValueName = "per-second",
            Help = "Requests per second one source address may make, in bursts of 10x; 0 turns it off",
            Parse = Rate,
            Get = o => o.RequestsPerSecondPerAddress, Set = (o, rate) => o with { RequestsPerSecondPerAddress = rate },
        },
        new ValueSetting<SecurityOptions, int>
        {
            Name = "host-rate-limit", Variable = "HEARTBEAT_HOST_RATE_LIMIT", ValueName = "per-second",
            Help = "Beats per second one host may send, in bursts of 10x; 0 turns it off",
            Parse = Rate,
            Get = o => o.BeatsPerSecondPerHost, Set = (o, rate) => o with { BeatsPerSecondPerHost = rate },
        },
        new ValueSetting<SecurityOptions, string>
        {
            Name = "tls-cert", Variable = "HEARTBEAT_TLS_CERT", ValueName = "file",
            Help = "Serve HTTPS (and HTTP/2) with this PEM certificate (chain); needs --tls-key",
            Parse = ValueParsers.Text,
            Get = o => o.TlsCertificate, Set = (o, file) => o with { TlsCertificate = file },
        },
        new ValueSetting<SecurityOptions, string>
        {
            Name = "tls-key", Variable = "HEARTBEAT_TLS_KEY", ValueName = "file",
            Help = "The PEM private key of --tls-cert",
            Parse = ValueParsers.Text,
            Get = o => o.TlsKey, Set = (o, file) => o with { TlsKey = file },
        },
    ];

    // One token every beat must carry.
    public string? Token { get; init; }

    // A file of "host token" lines: a beat for a host must carry that host's token. Reloaded when it changes.
    public string? TokensFile { get; init; }

    // Needed to read: the status page, the API and the event stream.
    public string? ReadToken { get; init; }

    // Needed for every change but a beat; without it, changes are allowed from this machine only.
    public string? AdminToken { get; init; }

    // The address people use to reach the server: its host name is one the page answers to, and its origin is trusted.
    public Uri? PublicUrl { get; init; }

    // More Host names (or *.example.org patterns, or * for any) that the page, API and metrics answer to.
    public IReadOnlyList<string> AllowedHosts { get; init; } = [];

    // The badges need no token.
    public bool PublicBadges { get; init; }

    // Groups whose hosts /status shows to anyone; empty: no public status page.
    public IReadOnlyList<string> PublicStatus { get; init; } = [];

    // Source networks that may send beats or read; empty allows everyone.
    public IReadOnlyList<IPNetwork> Allow { get; init; } = [];

    // Proxies whose X-Forwarded-For is believed; from anyone else it is ignored.
    public IReadOnlyList<IPNetwork> TrustProxy { get; init; } = [];

    // Requests per second one source address may make (bursts of ten times that); 0 turns the limit off.
    public int RequestsPerSecondPerAddress { get; init; } = 100;

    // Beats per second one host may send (bursts of ten times that); 0 turns the limit off.
    public int BeatsPerSecondPerHost { get; init; } = 5;

    public string? TlsCertificate { get; init; }

    public string? TlsKey { get; init; }

    // A network in CIDR notation, or one address (a /32 or /128).
    private static bool TryParseNetwork(string text, out IPNetwork network, out string error)
    {
        error = string.Empty;
        if (IPNetwork.TryParse(text, out network))
        {
            return true;
        }

        if (IPAddress.TryParse(text, out var address))
        {
            network = new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }

        error = $"'{text}' is not a network (e.g. 192.168.0.0/16, 10.1.2.3, 2001:db8::/32)";
        return false;
    }

    private static bool TryParsePublicUrl(string text, [MaybeNullWhen(false)] out Uri url, out string error)
    {
        error = $"'{text}' is not an http:// or https:// address (e.g. https://status.example.org/)";
        return Uri.TryCreate(text, UriKind.Absolute, out url) && url.Scheme is "http" or "https" && url.UserInfo.Length == 0;
    }

    private static bool TryParseGroup(string text, [MaybeNullWhen(false)] out string group, out string error)
    {
        group = text;
        error = $"'{text}' is not a group name (letters, digits, '.', '-', '_' or ':', up to {HeartbeatRules.MaxGroupLength})";
        return HeartbeatRules.IsValidLabel(text, HeartbeatRules.MaxGroupLength);
    }

    private static bool TryParseHostName(string text, [MaybeNullWhen(false)] out string name, out string error)
    {
        name = text.Trim();
        error = $"'{text}' is not a host name (e.g. status.example.org, *.example.org)";
        return name == "*" || Uri.CheckHostName(name.StartsWith("*.", StringComparison.Ordinal) ? name[2..] : name) == UriHostNameType.Dns;
    }
}
