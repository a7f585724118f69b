using System.Globalization;

namespace Heartbeat.Server.Settings;

// Sizes as sysadmins write them: 65536, 64k, 64KiB, 100M, 1GiB (binary multiples).
internal static class ByteSize
{
    private static readonly (string Suffix, long Factor)[] Units =
    [
        ("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30),
        ("KB", 1L << 10), ("MB", 1L << 20), ("GB", 1L << 30),
        ("K", 1L << 10), ("M", 1L << 20), ("G", 1L << 30),
        ("B", 1),
    ];

    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        var trimmed = text.Trim();
        long factor = 1;
        foreach (var (suffix, unitFactor) in Units)
        {
            if (trimmed.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                trimmed = trimmed[..^suffix.Length].TrimEnd();
                factor = unitFactor;
                break;
            }
        }

        if (!long.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            || number > long.MaxValue / factor)
        {
            return false;
        }

        bytes = number * factor;
        return true;
    }

    // In the largest unit that holds it whole: 100 MiB, 64 KiB, 1500 B; what TryParse reads back.
    public static string Format(long bytes)
    {
        var (suffix, factor) = Units[..3].Reverse().FirstOrDefault(u => bytes != 0 && bytes % u.Factor == 0, ("B", 1));
        return string.Create(CultureInfo.InvariantCulture, $"{bytes / factor} {suffix}");
    }
}
