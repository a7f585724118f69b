using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace Heartbeat.Server.Tests.Infrastructure;

/// <summary>
/// heartbeat-server as a child process, exactly as a user starts it, for what only a real process shows:
/// exit codes, signals, kill -9, and what is printed on the console.
/// </summary>
public sealed partial class ServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _error = new();

    private ServerProcess(Process process) => _process = process;

    public string StandardError
    {
        get
        {
            lock (_error)
            {
                return _error.ToString();
            }
        }
    }

    public static ServerProcess Start(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "heartbeat-server"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Unless a test asks for a store, keep state in memory: never in the user's own state directory.
        start.Environment["HEARTBEAT_STORE"] = "memory";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var server = new ServerProcess(new Process { StartInfo = start });
        server._process.OutputDataReceived += (_, _) => { };
        server._process.ErrorDataReceived += (_, e) => server.AppendError(e.Data);
        server._process.Start();
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        return server;
    }

    /// <summary>Waits for a new start line of the seed's shape in the log and returns the port it names.</summary>
    public async Task<int> WaitForStartAsync(string logPath, int earlierStarts = 0)
    {
        var line = await Eventually.ValueAsync(
            () =>
            {
                if (_process.HasExited)
                {
                    throw new InvalidOperationException($"heartbeat-server exited with {_process.ExitCode}: {StandardError}");
                }

                return HeartbeatLogFile.ReadLines(logPath).Where(l => StartLine().IsMatch(l)).Skip(earlierStarts).FirstOrDefault();
            },
            "the server's start line");
        return int.Parse(StartLine().Match(line).Groups["port"].Value, CultureInfo.InvariantCulture);
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(timeout);
        await _process.WaitForExitAsync(deadline.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGTERM, as systemd and kill send it.</summary>
    public void Terminate() => Assert.Equal(0, SendSignal(_process.Id, 15));

    /// <summary>kill -9: no chance to flush anything.</summary>
    public void KillHard()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            KillHard();
        }

        _process.Dispose();
    }

    private void AppendError(string? line)
    {
        if (line is not null)
        {
            lock (_error)
            {
                _error.AppendLine(line);
            }
        }
    }

    [GeneratedRegex(@" - Server started, listening on port (?<port>\d+)$")]
    private static partial Regex StartLine();

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
