namespace Heartbeat.Deploy.Tests;

/// <summary>A systemd unit file read as systemd reads it: sections of Key=Value lines, a key given again adding a value.</summary>
internal sealed class UnitFile
{
    private readonly Dictionary<string, List<(string Key, string Value)>> _sections = new(StringComparer.Ordinal);

    private UnitFile(string text)
    {
        List<(string, string)>? current = null;
        foreach (var line in text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            if (line.StartsWith('[') && line.EndsWith(']'))
            {
                current = _sections[line[1..^1]] = [];
                continue;
            }

            var equals = line.IndexOf('=', StringComparison.Ordinal);
            Assert.True(equals > 0 && current is not null, $"not a unit file line: {line}");
            current.Add((line[..equals], line[(equals + 1)..]));
        }
    }

    public IReadOnlyCollection<string> Sections => _sections.Keys;

    public static UnitFile Parse(string text) => new(text);

    public IReadOnlyList<string> All(string section, string key) => [.. _sections[section].Where(e => e.Key == key).Select(e => e.Value)];

    public string Get(string section, string key) => All(section, key) is [.., var last] ? last : throw new KeyNotFoundException($"{section}: no {key}");

    /// <summary>The Environment= lines of [Service] as variables (values without quotes or specifiers in our units).</summary>
    public Dictionary<string, string> Environment() => All("Service", "Environment")
        .Select(line => line.Split('=', 2))
        .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);
}
