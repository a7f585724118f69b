using System.Buffers;

namespace Heartbeat.Protocol;

/// <summary>The limits of wire format v1 (PRODUCT.md): what a sender must respect and a receiver enforces.</summary>
public static class HeartbeatRules
{
    public const int MaxHostLength = 253; // the longest DNS name
    public const int MaxMessageBytes = 1024;
    public const int MinIntervalSeconds = 1;
    public const int MaxIntervalSeconds = 86_400;

    /// <summary>The most missed intervals a host may ask to be forgiven before it is down.</summary>
    public const int MaxMissesBeforeDown = 100;

    /// <summary>The longest maintenance window one beat or request may ask for: 30 days.</summary>
    public const int MaxMaintenanceSeconds = 30 * 86_400;

    /// <summary>Boot ids and group names: a Linux boot id is 36 characters.</summary>
    public const int MaxBootIdLength = 64;

    public const int MaxGroupLength = 64;

    private static readonly SearchValues<char> HostAlphabet =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:");

    // Control characters, line and paragraph separators, and bidirectional overrides: anything that
    // could break a log line or make a note read differently from what it is.
    private static readonly SearchValues<char> UnsafeInText = SearchValues.Create(
        "\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u000A\u000B\u000C\u000D\u000E\u000F"
        + "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F"
        + "\u007F\u0080\u0081\u0082\u0083\u0084\u0085\u0086\u0087\u0088\u0089\u008A\u008B\u008C\u008D\u008E\u008F"
        + "\u0090\u0091\u0092\u0093\u0094\u0095\u0096\u0097\u0098\u0099\u009A\u009B\u009C\u009D\u009E\u009F"
        + "\u2028\u2029\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069");

    /// <summary>What <see cref="IsValidHost"/> takes, in words for an error message.</summary>
    public static string HostRule { get; } = $"1-{MaxHostLength} letters, digits, '.', '-', '_' or ':', and not '.' or '..'";

    /// <summary>
    /// 1–253 letters, digits, '.', '-', '_' or ':', except "." and "..": those are dot segments, which every URL
    /// parser (RFC 3986 §5.2.4, and Kestrel's even when percent-encoded) removes, so no /api/v1/hosts/{host} could
    /// ever reach such a host. Every other name of the alphabet survives a URL path unchanged.
    /// </summary>
    public static bool IsValidHost(ReadOnlySpan<char> host) =>
        host.Length is > 0 and <= MaxHostLength && !host.ContainsAnyExcept(HostAlphabet) && host is not ("." or "..");

    /// <summary>True when the text holds a character that must never reach a log line or a page.</summary>
    public static bool HasUnsafeCharacters(ReadOnlySpan<char> text) => text.ContainsAny(UnsafeInText);

    /// <summary>1–64 letters, digits, '.', '-', '_' or ':' (boot ids and group names).</summary>
    public static bool IsValidLabel(ReadOnlySpan<char> label, int maxLength) =>
        label.Length > 0 && label.Length <= maxLength && !label.ContainsAnyExcept(HostAlphabet);

    public static bool IsValidInterval(double seconds) =>
        double.IsFinite(seconds) && seconds >= MinIntervalSeconds && seconds <= MaxIntervalSeconds;
}
