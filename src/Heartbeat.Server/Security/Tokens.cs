using System.Security.Cryptography;
using System.Text;

namespace Heartbeat.Server.Security;

// Who may do what, by token. Tokens are compared in constant time and never logged or echoed.
internal sealed class Tokens
{
    private readonly HostTokensFile? _hostTokens;
    private volatile SecurityOptions _options;

    // Reads the tokens file, if any, at once: a missing or malformed one stops the server at start.
    public Tokens(SecurityOptions options, HostTokensFile? hostTokens)
    {
        _options = options;
        _hostTokens = hostTokens;
        hostTokens?.Load();
    }

    // The tokens of a configuration read again (SIGHUP); the tokens file, if any, stays.
    public void Use(SecurityOptions options) => _options = options;

    public bool BeatsNeedToken => _options.Token is not null || _hostTokens is not null;

    public bool ReadsNeedToken => _options.ReadToken is not null;

    public bool AdminNeedsToken => _options.AdminToken is not null;

    // A beat for host is allowed with the shared token, or with that host's own.
    public bool AllowsBeat(string host, string? token) =>
        !BeatsNeedToken
        || (token is not null && (Matches(_options.Token, token) || Matches(_hostTokens?.TokenOf(host), token)));

    // What a read or admin token grants: Admin, Read, or nothing.
    public string? AccessOf(string token) =>
        Matches(_options.AdminToken, token) ? Access.Admin
        : Matches(_options.ReadToken, token) ? Access.Read
        : null;

    // The bearer token of a request, or null.
    public static string? FromHeader(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;
    }

    // Hashing first makes the comparison constant-time in the length of the secret as well.
    private static bool Matches(string? expected, string? given) =>
        expected is not null && given is not null
        && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(expected)), SHA256.HashData(Encoding.UTF8.GetBytes(given)));
}

// Per-host tokens from a file of "host token" lines (# starts a comment). The file is read again when its
// modification time changes, checked at most once a second, so editing it takes effect without a restart.
internal sealed partial class HostTokensFile(string path, TimeProvider time, ILogger<HostTokensFile> logger)
{
    private readonly Lock _gate = new();
    private Dictionary<string, string> _tokens = new(StringComparer.Ordinal);
    private DateTime _loadedVersion = DateTime.MinValue;
    private DateTimeOffset _nextCheck = DateTimeOffset.MinValue;

    public string Path => path;

    // Reads the file; throws if it cannot (at start, that stops the server with a clear message).
    public void Load()
    {
        var version = File.GetLastWriteTimeUtc(path);
        var tokens = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in File.ReadLines(path))
        {
            var line = raw.Split('#', 2)[0].Trim();
            if (line.Length == 0)
            {
                continue;
            }

            var parts = line.Split((char[])[' ', '\t'], 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (parts.Length != 2)
            {
                throw new InvalidDataException($"{path}: each line must be 'host token' (a line has {parts.Length} field).");
            }

            tokens[parts[0]] = parts[1];
        }

        lock (_gate)
        {
            _tokens = tokens;
            _loadedVersion = version;
        }
    }

    public string? TokenOf(string host)
    {
        ReloadIfChanged();
        lock (_gate)
        {
            return _tokens.GetValueOrDefault(host);
        }
    }

    private void ReloadIfChanged()
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            if (now < _nextCheck)
            {
                return;
            }

            _nextCheck = now + TimeSpan.FromSeconds(1);
        }

        try
        {
            if (File.GetLastWriteTimeUtc(path) != _loadedVersion)
            {
                Load();
                LogReloaded(logger, path);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            // Keep the tokens that worked: a half-saved file must not lock every host out.
            LogReloadFailed(logger, path, e.Message);
        }
    }

    [LoggerMessage(EventId = 500, Level = LogLevel.Information, Message = "Reloaded host tokens from {Path}")]
    private static partial void LogReloaded(ILogger logger, string path);

    [LoggerMessage(EventId = 501, Level = LogLevel.Warning, Message = "Could not reload host tokens from {Path}, keeping the previous ones: {Reason}")]
    private static partial void LogReloadFailed(ILogger logger, string path, string reason);
}
