using System.Globalization;
using System.Text.RegularExpressions;

namespace Heartbeat.Testing;

/// <summary>heartbeat-server as a process of its own, and the port it says it listens on.</summary>
public static partial class ServerProcess
{
    /// <summary>Unless a test asks for a store, state is kept in memory: never in the user's own state directory.</summary>
    public static ChildProcess Start(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var variables = new Dictionary<string, string?> { ["HEARTBEAT_STORE"] = "memory" };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            variables[name] = value;
        }

        return ChildProcess.Start("heartbeat-server", arguments, variables);
    }

    /// <summary>Waits for a new start line of the seed's shape in the log and returns the port it names.</summary>
    public static async Task<int> WaitForStartAsync(this ChildProcess server, string logPath, int earlierStarts = 0)
    {
        var line = await Eventually.ValueAsync(
            () =>
            {
                if (server.HasExited)
                {
                    throw new InvalidOperationException($"heartbeat-server exited with {server.ExitCode}: {server.StandardError}");
                }

                return HeartbeatLogFile.ReadLines(logPath).Where(l => StartLine().IsMatch(l)).Skip(earlierStarts).FirstOrDefault();
            },
            "the server's start line");
        return int.Parse(StartLine().Match(line).Groups["port"].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@" - Server started, listening on port (?<port>\d+)$")]
    private static partial Regex StartLine();
}
