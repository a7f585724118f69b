using System.Net;

namespace Heartbeat.Server.Security;

/// <summary>Everything off by default, as the seed is open; each control is one option away.</summary>
internal sealed record SecurityOptions
{
    /// <summary>One token every beat must carry.</summary>
    public string? Token { get; init; }

    /// <summary>A file of "host token" lines: a beat for a host must carry that host's token. Reloaded when it changes.</summary>
    public string? TokensFile { get; init; }

    /// <summary>Needed to read: the status page, the API and the event stream.</summary>
    public string? ReadToken { get; init; }

    /// <summary>Needed for every change but a beat; without it, changes are allowed from this machine only.</summary>
    public string? AdminToken { get; init; }

    /// <summary>The address people use to reach the server: its host name is one the page answers to, and its origin is trusted.</summary>
    public Uri? PublicUrl { get; init; }

    /// <summary>More Host names (or *.example.org patterns, or * for any) that the page, API and metrics answer to.</summary>
    public IReadOnlyList<string> AllowedHosts { get; init; } = [];

    /// <summary>Source networks that may send beats or read; empty allows everyone.</summary>
    public IReadOnlyList<IPNetwork> Allow { get; init; } = [];

    /// <summary>Proxies whose X-Forwarded-For is believed; from anyone else it is ignored.</summary>
    public IReadOnlyList<IPNetwork> TrustProxy { get; init; } = [];

    /// <summary>Requests per second one source address may make (bursts of ten times that); 0 turns the limit off.</summary>
    public int RequestsPerSecondPerAddress { get; init; } = 100;

    /// <summary>Beats per second one host may send (bursts of ten times that); 0 turns the limit off.</summary>
    public int BeatsPerSecondPerHost { get; init; } = 5;

    public string? TlsCertificate { get; init; }

    public string? TlsKey { get; init; }
}
