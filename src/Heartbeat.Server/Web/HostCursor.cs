using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Heartbeat.Server.Hosts;

namespace Heartbeat.Server.Web;

// Where a page of hosts ended: the listing it walked (HostListing.Version) and the last host it showed. Opaque to
// clients (base64url of "version.rank.id"); any value they make up only moves where a walk starts.
internal readonly record struct HostCursor(long Version, ListedHost After)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public string Encode() =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{Version}.{After.Rank}.{After.Id}")));

    public static bool TryParse(string text, out HostCursor cursor)
    {
        cursor = default;
        string decoded;
        try
        {
            decoded = StrictUtf8.GetString(Base64Url.DecodeFromChars(text));
        }
        catch (Exception e) when (e is FormatException or DecoderFallbackException)
        {
            return false;
        }

        var parts = decoded.Split('.', 3);
        if (parts.Length != 3
            || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var rank)
            || rank >= HostIndex.Order.Count
            || parts[2].Length == 0)
        {
            return false;
        }

        cursor = new HostCursor(version, new ListedHost(rank, parts[2]));
        return true;
    }
}
