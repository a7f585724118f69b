using System.Text.RegularExpressions;

namespace Heartbeat.Server.Tests;

/// <summary>
/// The server's folders are its architecture: each may use the folders below it and none above, so a change to one
/// concern stays in its folder. These read the sources as a newcomer would.
/// </summary>
public sealed partial class StructureTests
{
    private const int MaxLines = 400;

    private static readonly string ServerSources = Repository.File("src", "Heartbeat.Server");

    private static readonly string[] SourceTrees = ["src", "tests", "bench"];

    [Fact]
    public void NoServerFolderUsesAFolderThatUsesItBack()
    {
        var uses = ServerFolders().ToDictionary(folder => folder, UsedFolders);
        Assert.Contains("Hosts", uses.Keys);
        Assert.Contains("Hosts", uses["Web"]);

        var cycles = uses.Keys.Select(folder => CycleThrough(folder, uses)).OfType<string>().Distinct().ToList();
        Assert.True(cycles.Count == 0, "Folders that use each other: " + string.Join("; ", cycles));
    }

    [Fact]
    public void NoSourceFileIsLongerThanANewcomerCanHoldInMind()
    {
        var sources = SourceTrees
            .SelectMany(top => Directory.EnumerateFiles(Repository.File(top), "*.*", SearchOption.AllDirectories))
            .Where(path => Path.GetExtension(path) is ".cs" or ".js" or ".css" or ".sh" && !IsBuildOutput(path))
            .ToList();
        Assert.NotEmpty(sources);

        var tooLong = sources
            .Select(path => (Path: Path.GetRelativePath(Repository.Root, path), Lines: File.ReadLines(path).Count()))
            .Where(file => file.Lines > MaxLines)
            .Select(file => $"{file.Path} ({file.Lines} lines)")
            .ToList();
        Assert.True(tooLong.Count == 0, $"Over {MaxLines} lines: " + string.Join(", ", tooLong));
    }

    private static IEnumerable<string> ServerFolders() =>
        Directory.EnumerateDirectories(ServerSources)
            .Where(directory => Directory.EnumerateFiles(directory, "*.cs").Any() && !IsBuildOutput(directory + Path.DirectorySeparatorChar))
            .Select(Path.GetFileName)
            .OfType<string>();

    private static HashSet<string> UsedFolders(string folder) =>
        Directory.EnumerateFiles(Path.Combine(ServerSources, folder), "*.cs", SearchOption.AllDirectories)
            .SelectMany(path => ServerNamespace().Matches(File.ReadAllText(path)).Select(match => match.Groups[1].Value))
            .Where(used => used != folder)
            .ToHashSet(StringComparer.Ordinal);

    // The shortest way from the folder back to itself, as "A -> B -> A", or null when there is none.
    private static string? CycleThrough(string start, Dictionary<string, HashSet<string>> uses)
    {
        var cameFrom = new Dictionary<string, string>(StringComparer.Ordinal);
        var queue = new Queue<string>([start]);
        while (queue.TryDequeue(out var folder))
        {
            foreach (var used in uses.GetValueOrDefault(folder) ?? [])
            {
                if (used == start)
                {
                    var path = new List<string> { start };
                    for (var step = folder; step != start; step = cameFrom[step])
                    {
                        path.Insert(1, step);
                    }

                    // The same cycle found from each of its folders reads the same when started at its first name.
                    var first = path.IndexOf(path.Min(StringComparer.Ordinal)!);
                    var rotated = path.Skip(first).Concat(path.Take(first)).ToList();
                    return string.Join(" -> ", rotated.Append(rotated[0]));
                }

                if (cameFrom.TryAdd(used, folder))
                {
                    queue.Enqueue(used);
                }
            }
        }

        return null;
    }

    private static bool IsBuildOutput(string path) =>
        path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
        || path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
        || path.Contains($"{Path.DirectorySeparatorChar}node_modules{Path.DirectorySeparatorChar}", StringComparison.Ordinal);

    [GeneratedRegex(@"\bHeartbeat\.Server\.([A-Z][A-Za-z]+)\b")]
    private static partial Regex ServerNamespace();
}
