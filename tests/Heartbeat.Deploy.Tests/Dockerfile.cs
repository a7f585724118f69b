using System.Text.Json;

namespace Heartbeat.Deploy.Tests;

/// <summary>The repository's Dockerfile read instruction by instruction (continued lines joined), stage by stage.</summary>
internal sealed class Dockerfile
{
    private Dockerfile(List<List<(string Instruction, string Arguments)>> stages) => Stages = stages;

    public IReadOnlyList<List<(string Instruction, string Arguments)>> Stages { get; }

    public IReadOnlyList<(string Instruction, string Arguments)> Runtime => Stages[^1];

    public static Dockerfile Read()
    {
        var stages = new List<List<(string, string)>>();
        var joined = Repository.Read("Dockerfile").Replace("\\\n", " ", StringComparison.Ordinal);
        foreach (var line in joined.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            var (instruction, arguments) = (line[..space].ToUpperInvariant(), line[(space + 1)..].Trim());
            if (instruction == "FROM")
            {
                stages.Add([]);
            }

            stages[^1].Add((instruction, arguments));
        }

        return new Dockerfile(stages);
    }

    public static IReadOnlyList<string> Stage(IReadOnlyList<(string Instruction, string Arguments)> stage, string instruction) =>
        [.. stage.Where(i => i.Instruction == instruction).Select(i => i.Arguments)];

    /// <summary>The runtime stage's ENV as variables (KEY=value pairs, no quoting in ours).</summary>
    public Dictionary<string, string> Environment() => Stage(Runtime, "ENV")
        .SelectMany(e => e.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        .Select(pair => pair.Split('=', 2))
        .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);

    /// <summary>An exec-form instruction's arguments (ENTRYPOINT ["…"], HEALTHCHECK … CMD ["…"]).</summary>
    public static string[] ExecForm(string arguments) => JsonSerializer.Deserialize<string[]>(arguments[arguments.IndexOf('[', StringComparison.Ordinal)..])!;
}
