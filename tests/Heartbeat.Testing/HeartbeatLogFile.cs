using System.Text.RegularExpressions;

namespace Heartbeat.Testing;

/// <summary>Reads a heartbeat log the way a user's tail or grep would, while the server may still be writing it.</summary>
public static partial class HeartbeatLogFile
{
    /// <summary>One whole heartbeat line: the seed's timestamp, then the message.</summary>
    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} - Received heartbeat - From: \S+, Reported IP: \S+(, Host: \S+)?$")]
    public static partial Regex HeartbeatLine();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} - (?<message>.*)$")]
    private static partial Regex TimestampedLine();

    public static string[] ReadLines(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>The lines with their timestamps taken off; fails on any line that lacks one.</summary>
    public static string[] ReadMessages(string path) => ReadLines(path).Select(line =>
    {
        var match = TimestampedLine().Match(line);
        Assert.True(match.Success, $"Not a timestamped log line: '{line}'");
        return match.Groups["message"].Value;
    }).ToArray();

    /// <summary>
    /// Waits until the messages satisfy the condition. A state is visible in the API a moment before the
    /// event's line is written (the sweeper changes the state, then writes), so tests of event lines wait.
    /// </summary>
    public static Task WaitForAsync(string path, Func<string[], bool> condition, string what) =>
        Eventually.TrueAsync(() => condition(ReadMessages(path)), what);

    public static Task WaitForMessageAsync(string path, string message) =>
        WaitForAsync(path, messages => messages.Contains(message), $"the log line '{message}'");

    public static string[] HeartbeatMessages(string path) =>
        ReadMessages(path).Where(m => m.StartsWith("Received heartbeat", StringComparison.Ordinal)).ToArray();
}
