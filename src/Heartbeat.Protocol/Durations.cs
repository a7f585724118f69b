using System.Globalization;

namespace Heartbeat.Protocol;

/// <summary>Durations as people write and read them: 90, 90s, 5m, 2h, 1d; shown as 45s, 5m 3s, 2h 10m, 3d 4h.</summary>
public static class Durations
{
    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = default;
        var trimmed = text.Trim();
        var unit = trimmed.Length > 0 && char.IsLetter(trimmed[^1]) ? char.ToLowerInvariant(trimmed[^1]) : 's';
        var number = char.IsLetter(trimmed.LastOrDefault()) ? trimmed[..^1] : trimmed;
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
        {
            return false;
        }

        double? seconds = unit switch
        {
            's' => value,
            'm' => value * 60,
            'h' => value * 3600,
            'd' => value * 86400,
            _ => null,
        };
        if (seconds is not { } total || total > TimeSpan.MaxValue.TotalSeconds)
        {
            return false;
        }

        duration = TimeSpan.FromSeconds(total);
        return true;
    }

    public static string Format(TimeSpan duration)
    {
        var d = duration.Duration();
        return d switch
        {
            { TotalDays: >= 1 } => Invariant($"{(int)d.TotalDays}d {d.Hours}h"),
            { TotalHours: >= 1 } => Invariant($"{d.Hours}h {d.Minutes}m"),
            { TotalSeconds: >= 120 } => d.Seconds == 0 ? Invariant($"{d.Minutes}m") : Invariant($"{d.Minutes}m {d.Seconds}s"),
            _ => Invariant($"{Math.Round(d.TotalSeconds, d.TotalSeconds < 10 ? 1 : 0)}s"),
        };
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
