using System.Text;
using Heartbeat.Server.Hosting;

namespace Heartbeat.Server.Tests;

/// <summary>The README's table of options is made from the option definitions, so it says what --help says.</summary>
public sealed class OptionsReferenceTests
{
    private const string Start = "<!-- options: made from the option definitions by OptionsReferenceTests -->";
    private const string End = "<!-- /options -->";

    [Fact]
    public void TheReadmesOptionsTableIsTheOptionsAsDefined()
    {
        var path = Repository.File("README.md");
        var readme = File.ReadAllText(path);
        var (from, to) = (readme.IndexOf(Start, StringComparison.Ordinal), readme.IndexOf(End, StringComparison.Ordinal));
        Assert.True(from >= 0 && to > from, $"README.md has no '{Start}' … '{End}' section");

        var made = readme[..(from + Start.Length)] + "\n" + Table() + readme[to..];
        if (Environment.GetEnvironmentVariable("HEARTBEAT_UPDATE_DOCS") == "1")
        {
            File.WriteAllText(path, made);
        }

        Assert.True(made == readme,
            "README.md's options table is not what the option definitions say; remake it with: HEARTBEAT_UPDATE_DOCS=1 ./test.sh --filter-class '*OptionsReferenceTests*'");
    }

    private static string Table()
    {
        var table = new StringBuilder("| option | environment | default | meaning | reload |\n|---|---|---|---|---|\n");
        table.Append("| `--config FILE` | `HEARTBEAT_CONFIG` | `/etc/heartbeat/heartbeat.yaml`, when it exists | the YAML config file (see Config file) | |\n");
        foreach (var setting in ServerOptions.Settings)
        {
            var option = setting.IsPositional ? $"`{setting.Name}` (argument)"
                : setting.IsSwitch ? $"`--{setting.Name}`"
                : $"`--{setting.Name} {setting.ValueName.ToUpperInvariant()}`{(setting.Separator is null ? string.Empty : " (repeatable)")}";
            var variable = setting.IsSecret ? $"`{setting.Variable}`, `{setting.Variable}_FILE`" : $"`{setting.Variable}`";
            var joined = setting.Separator switch
            {
                null => string.Empty,
                ',' => " (comma-separated)",
                ' ' => " (space-separated)",
                _ => " (one per line)",
            };

            // The store's default path depends on the machine and the user.
            var fallback = setting.Name == "data" ? "see Persistence"
                : setting.DefaultText is { } text ? $"`{text}`"
                : setting.IsSwitch ? "off" : "none";
            var reload = ConfigReload.Live.Contains(setting.Name) ? "✓" : string.Empty;
            table.Append($"| {option.Replace("|", "\\|", StringComparison.Ordinal)} | {variable}{joined} | {fallback} | {setting.Help.Replace("|", "\\|", StringComparison.Ordinal)} | {reload} |\n");
        }

        return table.ToString();
    }
}
