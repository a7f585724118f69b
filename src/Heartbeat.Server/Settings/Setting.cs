using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Heartbeat.Server.Settings;

/// <summary>Reads one value from text; the error says what is wrong with it, and the caller adds where it came from.</summary>
internal delegate bool ValueParser<T>(string text, [MaybeNullWhen(false)] out T value, out string error);

/// <summary>
/// One setting of the options record <typeparamref name="TOptions"/>, stated once: its name (<c>--NAME</c> on the command
/// line, the key <c>NAME</c> in a config file), its environment variable, its help, how its value is read and where it goes.
/// Its default is the record's own.
/// </summary>
internal abstract class Setting<TOptions>(char? separator) where TOptions : new()
{
    public required string Name { get; init; }

    public required string Variable { get; init; }

    /// <summary>What the value is, for help: path, size, duration, count…</summary>
    public required string ValueName { get; init; }

    public required string Help { get; init; }

    /// <summary>Better given by environment variable, as a command line shows in ps.</summary>
    public bool IsSecret { get; init; }

    /// <summary>Given on the command line without its name, as the seed takes its port.</summary>
    public bool IsPositional { get; init; }

    /// <summary>For a repeatable setting, what joins its values in the environment variable; null for one value.</summary>
    public char? Separator => separator;

    /// <summary>A yes-or-no setting: on the command line its name alone turns it on.</summary>
    public abstract bool IsSwitch { get; }

    /// <summary>The default as people write it (60s, 100 MiB, sqlite); null when it is nothing (unset, empty or off).</summary>
    public abstract string? DefaultText { get; }

    /// <summary>Reads the value from what was given: the last text of a single value, every text of a list.</summary>
    public abstract bool TryRead(IReadOnlyList<string> texts, [NotNullWhen(true)] out object? value, out string error);

    /// <summary>The options with this setting set to a value <see cref="TryRead"/> gave.</summary>
    public abstract TOptions Apply(TOptions options, object value);

    /// <summary>This setting as part of a larger record, which holds these options in one of its properties.</summary>
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

/// <summary>A setting with one value; given twice, the last one counts.</summary>
internal sealed class ValueSetting<TOptions, T>() : Setting<TOptions>(null) where TOptions : new() where T : notnull
{
    public required ValueParser<T> Parse { get; init; }

    public required Func<TOptions, T?> Get { get; init; }

    public required Func<TOptions, T, TOptions> Set { get; init; }

    /// <summary>Writes a value the way <see cref="Parse"/> reads it back; plain invariant text unless told otherwise.</summary>
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

/// <summary>
/// A repeatable setting, which starts empty: every value given counts, and one text may hold several joined by the
/// separator (as its environment variable does).
/// </summary>
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
