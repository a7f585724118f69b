using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Heartbeat.Server.Tests.Infrastructure;

/// <summary>The PromQL of the shipped rules and dashboard, and the metric names it reads.</summary>
internal static partial class PromQl
{
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "inf", "nan",
    };

    /// <summary>Every expr of a rules file: one line, or a folded block (>-) of the lines indented below it.</summary>
    public static IReadOnlyList<string> RuleExpressions(string path)
    {
        var lines = File.ReadAllLines(path);
        var expressions = new List<string>();
        for (var i = 0; i < lines.Length; i++)
        {
            var match = ExprLine().Match(lines[i]);
            if (!match.Success)
            {
                continue;
            }

            var text = match.Groups["expr"].Value.Trim();
            if (text is ">-" or ">" or "|")
            {
                var indent = match.Groups["indent"].Value.Length;
                var block = new StringBuilder();
                while (i + 1 < lines.Length && (lines[i + 1].Length - lines[i + 1].TrimStart().Length > indent || lines[i + 1].Trim().Length == 0))
                {
                    block.Append(' ').Append(lines[++i].Trim());
                }

                text = block.ToString().Trim();
            }

            expressions.Add(text);
        }

        return expressions;
    }

    /// <summary>The dashboard's queries (Grafana's variables given values PromQL takes) and the metrics its variables list labels of.</summary>
    public static (IReadOnlyList<string> Queries, IReadOnlyList<string> VariableMetrics) DashboardExpressions(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var queries = new List<string>();
        Walk(document.RootElement, "expr", queries);
        var definitions = new List<string>();
        Walk(document.RootElement, "definition", definitions);
        var variables = definitions.SelectMany(d => LabelValues().Matches(d).Select(m => m.Groups["metric"].Value)).ToList();
        Assert.NotEmpty(queries);
        return ([.. queries.Select(q => q.Replace("$__rate_interval", "5m", StringComparison.Ordinal).Replace("$instance", ".*", StringComparison.Ordinal))], variables);
    }

    /// <summary>The queries as a rules file, for promtool to parse each.</summary>
    public static string AsRecordingRules(IEnumerable<string> queries)
    {
        var text = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
        var n = 0;
        foreach (var query in queries)
        {
            text.Append("      - record: dashboard:query_").Append(++n).Append("\n        expr: '").Append(query.Replace("'", "''", StringComparison.Ordinal)).Append("'\n");
        }

        return text.ToString();
    }

    /// <summary>The metric names an expression reads: what is left once strings, matchers, ranges, label lists, functions and keywords are taken out.</summary>
    public static IEnumerable<string> MetricNames(string expression)
    {
        var bare = Strings().Replace(expression, "\"\"");
        bare = Matchers().Replace(bare, " ");
        bare = Ranges().Replace(bare, " ");
        bare = LabelLists().Replace(bare, " ");
        return Identifiers().Matches(bare).Select(m => m.Value).Where(name => !Keywords.Contains(name)).Distinct(StringComparer.Ordinal);
    }

    private static void Walk(JsonElement element, string property, List<string> found)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var member in element.EnumerateObject())
            {
                if (member.Name == property && member.Value.ValueKind == JsonValueKind.String)
                {
                    found.Add(member.Value.GetString()!);
                }
                else
                {
                    Walk(member.Value, property, found);
                }
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                Walk(item, property, found);
            }
        }
    }

    [GeneratedRegex(@"^(?<indent>\s*)(- )?expr:\s*(?<expr>.*)$")]
    private static partial Regex ExprLine();

    [GeneratedRegex(@"label_values\((?<metric>[a-zA-Z_:][a-zA-Z0-9_:]*)")]
    private static partial Regex LabelValues();

    [GeneratedRegex(@"""(?:[^""\\]|\\.)*""")]
    private static partial Regex Strings();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Matchers();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Ranges();

    [GeneratedRegex(@"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex LabelLists();

    // A name not followed by "(" (a function) and not part of a number.
    [GeneratedRegex(@"(?<![\w.:])[a-zA-Z_:][a-zA-Z0-9_:]*(?!\s*\(|[\w:])")]
    private static partial Regex Identifiers();
}
