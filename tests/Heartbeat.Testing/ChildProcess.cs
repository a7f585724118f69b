using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Heartbeat.Testing;

/// <summary>
/// One of our programs as its own process, exactly as a user or a service manager starts it: for what only
/// a real process shows (exit codes, signals, kill -9, what it prints).
/// </summary>
public sealed partial class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();

    private ChildProcess(Process process) => _process = process;

    public string StandardOutput => Read(_output);

    public string StandardError => Read(_error);

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public int Id => _process.Id;

    /// <summary>Starts a program that the test project's build put beside the tests (heartbeat-server, heartbeat).</summary>
    public static ChildProcess Start(string program, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo(Path.IsPathRooted(program) ? program : Path.Combine(AppContext.BaseDirectory, program))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            start.Environment[name] = value;
        }

        var child = new ChildProcess(new Process { StartInfo = start });
        child._process.OutputDataReceived += (_, e) => Append(child._output, e.Data);
        child._process.ErrorDataReceived += (_, e) => Append(child._error, e.Data);
        child._process.Start();
        child._process.BeginOutputReadLine();
        child._process.BeginErrorReadLine();
        return child;
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(timeout);
        await _process.WaitForExitAsync(deadline.Token);
        _process.WaitForExit(); // returns once the redirected output has been read to its end
        return _process.ExitCode;
    }

    /// <summary>SIGTERM, as systemd and kill send it.</summary>
    public void Terminate() => Assert.Equal(0, SendSignal(_process.Id, 15));

    /// <summary>SIGHUP, as logrotate's postrotate sends it.</summary>
    public void Hangup() => Assert.Equal(0, SendSignal(_process.Id, 1));

    /// <summary>SIGSTOP: the process stands still, as in a long GC or disk pause or a suspended VM.</summary>
    public void Pause() => Assert.Equal(0, SendSignal(_process.Id, 19));

    /// <summary>SIGCONT: it runs again.</summary>
    public void Resume() => Assert.Equal(0, SendSignal(_process.Id, 18));

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

    private static void Append(StringBuilder target, string? line)
    {
        if (line is not null)
        {
            lock (target)
            {
                target.AppendLine(line);
            }
        }
    }

    private static string Read(StringBuilder source)
    {
        lock (source)
        {
            return source.ToString();
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
