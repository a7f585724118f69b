using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Heartbeat.Server.Settings;

// Reads one value from text; the error says what is wrong with it, and the caller adds where it came from.
internal delegate bool ValueParser<T>(string text, [MaybeNullWhen(false)] out T value, out string error);

// One setting of the options record TOptions, stated once: its name (--NAME on the command
// line, the key NAME in a config file), its environment variable, its help, how its value is read and where it goes.
// Its default is the record's own.
internal abstract class Setting<TOptions>(char? separator) where TOptions : new()
{
    public required string Name { get; init; }

    public required string Variable { get; init; }

    // What the value is, for help: path, size, duration, count…
    public required string ValueName { get; init; }

    public required string Help { get; init; }

    // Better given by environment variable, as a command line shows in ps.
    public bool IsSecret { get; init; }

    // Given on the command line without its name, as the seed takes its port.
    public bool IsPositional { get; init; }

    // For a repeatable setting, what joins its values in the environment variable; null for one value.
    public char? Separator => separator;

    // A yes-or-no setting: on the command line its name alone turns it on.
    public abstract bool IsSwitch { get; }

    // The default as people write it (60s, 100 MiB, sqlite); null when it is nothing (unset, empty or off).
    public abstract string? DefaultText { get; }

    // Reads the value from what was given: the last text of a single value, every text of a list.
    public abstract bool TryRead(IReadOnlyList<string> texts, [NotNullWhen(true)] out object? value, out string error);

    // The options with this setting set to a value TryRead gave.
    public abstract TOptions Apply(TOptions options, object value);

    // This setting as part of a larger record, which holds these options in one of its properties.
    public Setting<TOuter> Within<TOuter>(Func<TOuter, TOptions> get, Func<TOuter, TOptions, TOuter> set) where TOuter : new() =>
        new Nested<TOuter>(this, get, set);

    private sealed class Nested<TOuter> : Setting<TOuter> where TOuter : new()
    {
        private readonly Setting<TOptions> _inner;
        private readonly Func<TOuter, TOptions> _get;
        private readonly Func<TOuter, TOptions, TOuter> _set;

        [SetsRequiredMembers]
        public Nested(Setting<TOptions> inner, Func<TOuter, TOptions> get, Func<TOuter, TOptions, TOuter> set) : base(inner.Separator)
        {
            (_inner, _get, _set) = (inner, get, set);
            (Name, Variable, ValueName, Help) = (inner.Name, inner.Variable, inner.ValueName, inner.Help);
            (IsSecret, IsPositional) = (inner.IsSecret, inner.IsPositional);
        }

        public override bool IsSwitch => _inner.IsSwitch;

        public override string? DefaultText => _inner.DefaultText;

        public override bool TryRead(IReadOnlyList<string> texts, [NotNullWhen(true)] out object? value, out string error) =>
            _inner.TryRead(texts, out value, out error);

        public override TOuter Apply(TOuter options, object value) => _set(options, _inner.Apply(_get(options), value));
    }
}

// A setting with one value; given twice, the last one counts.
internal sealed class ValueSetting<TOptions, T>() : Setting<TOptions>(null) where TOptions : new() where T : notnull
{
    public required ValueParser<T> Parse { get; init; }

    public required Func<TOptions, T?> Get { get; init; }

    public required Func<TOptions, T, TOptions> Set { get; init; }

    // Writes a value the way Parse reads it back; plain invariant text unless told otherwise.
    public Func<T, string> Format { get; init; } = value => Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty;

    public override bool IsSwitch => typeof(T) == typeof(bool);

    public override string? DefaultText => Get(new TOptions()) is { } value && (object)value is not false ? Format(value) : null;

    public override bool TryRead(IReadOnlyList<string> texts, [NotNullWhen(true)] out object? value, out string error)
    {
        error = "no value given";
        value = texts.Count > 0 && Parse(texts[^1], out var parsed, out error) ? parsed : null;
        return value is not null;
    }

    public override TOptions Apply(TOptions options, object value) => Set(options, (T)value);
}

// A repeatable setting, which starts empty: every value given counts, and one text may hold several joined by the
// separator (as its environment variable does).
internal sealed class ListSetting<TOptions, T>(char separator) : Setting<TOptions>(separator) where TOptions : new() where T : notnull
{
    public required ValueParser<T> Parse { get; init; }

    public required Func<TOptions, IReadOnlyList<T>, TOptions> Set { get; init; }

    public override bool IsSwitch => false;

    public override string? DefaultText => null;

    public override bool TryRead(IReadOnlyList<string> texts, [NotNullWhen(true)] out object? value, out string error)
    {
        var items = new List<T>();
        error = string.Empty;
        value = null;
        foreach (var text in texts.SelectMany(t => t.Split(separator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (!Parse(text, out var item, out error))
            {
                return false;
            }

            items.Add(item);
        }

        value = items.ToArray();
        return true;
    }

    public override TOptions Apply(TOptions options, object value) => Set(options, (T[])value);
}
