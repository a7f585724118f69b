using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Heartbeat.Protocol;

namespace Heartbeat.Server.Settings;

// Readers for the kinds of value settings take, each with its allowed range and an error that shows it.
internal static class ValueParsers
{
    // Any text, as given: tokens, file names, connection strings.
    public static readonly ValueParser<string> Text = (string text, [MaybeNullWhen(false)] out string value, out string error) =>
    {
        (value, error) = (text, string.Empty);
        return true;
    };

    public static readonly ValueParser<bool> Bool = (string text, out bool value, out string error) =>
    {
        bool? parsed = text.Trim().ToUpperInvariant() switch
        {
            "1" or "TRUE" or "YES" or "ON" => true,
            "0" or "FALSE" or "NO" or "OFF" => false,
            _ => null,
        };
        (value, error) = (parsed ?? false, parsed is null ? $"'{text}' is not a boolean (true/false, 1/0, yes/no)" : string.Empty);
        return parsed is not null;
    };

    // A path that is not blank; what names it in the error.
    public static ValueParser<string> Path(string what) => (string text, [MaybeNullWhen(false)] out string value, out string error) =>
    {
        (value, error) = (text, string.IsNullOrWhiteSpace(text) ? $"the {what} is empty" : string.Empty);
        return error.Length == 0;
    };

    // A whole number from min to max: "'x' is not NOUN (MIN-MAX NOTE)".
    public static ValueParser<int> Int(int min, int max, string noun, string note = "") => (string text, out int value, out string error) =>
    {
        var ok = int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;
        error = ok ? string.Empty : Invariant($"'{text}' is not {noun} ({min}-{max}{note})");
        return ok;
    };

    // A size in bytes (see ByteSize), within the range when one is given.
    public static ValueParser<long> Size(string noun, string examples, long min = 0, long max = long.MaxValue) => (string text, out long value, out string error) =>
    {
        var ok = ByteSize.TryParse(text, out value) && value >= min && value <= max;
        var range = min > 0 || max < long.MaxValue ? $" from {ByteSize.Format(min)} to {ByteSize.Format(max)}" : string.Empty;
        error = ok ? string.Empty : $"'{text}' is not {noun}{range} (e.g. {examples})";
        return ok;
    };

    // A duration (see Durations) from min to max.
    public static ValueParser<TimeSpan> Duration(TimeSpan min, TimeSpan max, string noun, string examples) => (string text, out TimeSpan value, out string error) =>
    {
        var ok = Durations.TryParse(text, out value) && value >= min && value <= max;
        error = ok ? string.Empty : $"'{text}' is not {noun} from {Bound(min)} to {Bound(max)} (e.g. {examples})";
        return ok;
    };

    // One of the enum's names, in any case: "'x' is not NOUN (a, b or c)".
    public static ValueParser<TEnum> OneOf<TEnum>(string noun) where TEnum : struct, Enum => (string text, out TEnum value, out string error) =>
    {
        var ok = Enum.TryParse(text, ignoreCase: true, out value) && Enum.IsDefined(value);
        var names = Enum.GetValues<TEnum>().Select(Name).ToArray();
        error = ok ? string.Empty : $"'{text}' is not {noun} ({string.Join(", ", names[..^1])} or {names[^1]})";
        return ok;
    };

    // An enum value as it is written in settings: sqlite, not Sqlite.
    public static string Name<TEnum>(TEnum value) where TEnum : struct, Enum => value.ToString().ToLowerInvariant();

    // Durations.Format shows a day as "1d 0h"; a range reads better in whole units.
    private static string Bound(TimeSpan bound) => bound.Ticks % TimeSpan.TicksPerDay == 0 ? Invariant($"{bound.Days}d") : Durations.Format(bound);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
