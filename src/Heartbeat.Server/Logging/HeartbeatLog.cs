using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Heartbeat.Server.Diagnostics;

namespace Heartbeat.Server.Logging;

// The seed-format heartbeat log, with group commit: callers queue lines and await the write of the
// batch that holds them, while one writer thread turns each batch into a single write(2) (and, with
// --fsync, one fsync). A returned task means the line is in the operating system's hands, so a
// kill -9 right after loses nothing; lines never tear or interleave because only the writer writes,
// and a batch that cannot be written whole is taken back and refused as a whole.
// The writer also follows the file: SIGHUP reopens it, and a log moved, replaced or deleted behind
// its back (logrotate, rm) is noticed within a second and reopened at its path.
internal sealed partial class HeartbeatLog : IAsyncDisposable
{
    private static readonly TimeSpan RotationRetryDelay = TimeSpan.FromMinutes(1);

    // Looking for the file at its path costs two stat calls; once a second keeps that off the hot path
    // while a batch after an idle spell is checked before it is written.
    private const long CheckIntervalMilliseconds = 1000;

    private readonly HeartbeatLogOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<HeartbeatLog> _logger;
    private readonly ServerMetrics _metrics;
    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
    private readonly SemaphoreSlim _batchReady = new(0);
    private readonly TaskCompletionSource _writerStopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Guarded by _gate: the batch being filled, the task its callers await, and the writer's wake-up state.
    private readonly Lock _gate = new();
    private List<string> _pending = [];
    private TaskCompletionSource _pendingWritten = NewBatchCompletion();
    private bool _writerSignalled;
    private bool _reopenRequested;
    private bool _checkRequested;
    private bool _closing;

    // Owned by the writer thread after construction.
    private LogFile _file;
    private long _length;
    private long _nextCheck;
    private DateTimeOffset _nextRotationAttempt = DateTimeOffset.MinValue;

    // Written by the writer, read by the health check and /metrics.
    private long _lastWriteUtcTicks;
    private volatile WriteError? _lastError;
    private volatile bool _failing;

    public HeartbeatLog(HeartbeatLogOptions options, TimeProvider time, ServerMetrics metrics, ILogger<HeartbeatLog> logger)
    {
        _options = options;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _file = options.IsStandardOutput ? LogFile.StandardOutput() : LogFile.Open(options.Path);
        _length = _file.Length;
        _nextCheck = Environment.TickCount64 + CheckIntervalMilliseconds;
        new Thread(WriteBatches) { IsBackground = true, Name = "heartbeat-log" }.Start();
    }

    public string Path => _options.Path;

    // How writing goes: what the health check and /metrics report.
    public WriteStatus Status => new(
        !_failing,
        Volatile.Read(ref _lastWriteUtcTicks) is var ticks and > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null,
        _lastError);

    // Queues lines, kept together and in order; the task completes once they are written, or faults
    // with HeartbeatLogException.
    public Task AppendAsync(params ReadOnlySpan<string> messages)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closing, this);
            _pending.AddRange(messages);
            SignalWriter();
            return _pendingWritten.Task;
        }
    }

    // Closes the file and opens the path again (logrotate's postrotate sends SIGHUP for this).
    public void Reopen()
    {
        lock (_gate)
        {
            _reopenRequested = !_closing;
            SignalWriter();
        }
    }

    // Makes sure the log can be written now, for the health check: the file is looked for at its path
    // (and reopened there), and a log that failed is tried again. Faults as a failed batch does.
    public Task CheckAsync()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closing, this);
            _checkRequested = true;
            SignalWriter();
            return _pendingWritten.Task;
        }
    }

    // Writes what is queued, closes the file, and stops the writer.
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _closing = true;
            SignalWriter();
        }

        await _writerStopped.Task.ConfigureAwait(false);
    }

    private static TaskCompletionSource NewBatchCompletion() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void SignalWriter()
    {
        if (!_writerSignalled)
        {
            _writerSignalled = true;
            _batchReady.Release();
        }
    }

    private void WriteBatches()
    {
        var spare = new List<string>();
        while (true)
        {
            _batchReady.Wait();
            List<string> batch;
            TaskCompletionSource written;
            bool reopen, check, closing;
            lock (_gate)
            {
                batch = _pending;
                _pending = spare;
                written = _pendingWritten;
                _pendingWritten = NewBatchCompletion();
                _writerSignalled = false;
                (reopen, check, closing) = (_reopenRequested, _checkRequested, _closing);
                (_reopenRequested, _checkRequested) = (false, false);
            }

            if (reopen)
            {
                ReopenOnSignal();
            }

            try
            {
                if (batch.Count > 0 || check)
                {
                    // After a failure every batch looks again: one acknowledged into a file that is gone would be lost.
                    FollowPath(force: check || _failing);
                }

                if (batch.Count > 0)
                {
                    var started = Stopwatch.GetTimestamp();
                    Write(batch);
                    _metrics.LogBatches.Inc();
                    _metrics.LogWriteSeconds.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
                    Succeeded();
                }
                else if (check && _failing)
                {
                    Probe();
                }

                written.SetResult();
            }
#pragma warning disable CA1031 // The writer must outlive any failure; the callers of this batch are told instead.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Failed(e);
                written.SetException(new HeartbeatLogException(e));
            }

            batch.Clear();
            spare = batch;
            if (closing)
            {
                break;
            }
        }

        _file.Dispose();
        _writerStopped.SetResult();
    }

    private void Write(List<string> batch)
    {
        // One timestamp per batch: a batch spans microseconds, and the log then never goes back in time.
        var prefix = _time.GetLocalNow().ToString(LogLines.TimestampFormat, CultureInfo.InvariantCulture) + " - ";
        _buffer.ResetWrittenCount();
        foreach (var message in batch)
        {
            Encoding.UTF8.GetBytes(prefix, _buffer);
            Encoding.UTF8.GetBytes(message, _buffer);
            _buffer.Write("\n"u8);
        }

        RotateIfDue(_buffer.WrittenCount);
        _file.Append(_buffer.WrittenSpan, _options.Fsync);
        _length += _buffer.WrittenCount;
    }

    // Reopens the path if the file there is no longer the one held (moved, replaced, deleted), at most once
    // a second unless forced. Also learns the length anew, which copytruncate may have cut to nothing.
    private void FollowPath(bool force)
    {
        var now = Environment.TickCount64;
        if (_options.IsStandardOutput || (!force && now < _nextCheck))
        {
            return;
        }

        _nextCheck = now + CheckIntervalMilliseconds;
        if (!_file.IsAt(_options.Path))
        {
            // Opened before the old one is let go: if the path cannot be opened, this batch fails and is refused
            // rather than written to a file nobody will find.
            var reopened = LogFile.Open(_options.Path);
            _file.Dispose();
            _file = reopened;
            _metrics.LogReopens.WithLabels("moved").Inc();
            LogReopenedMissing(_logger, _options.Path);
        }

        _length = _file.Length;
    }

    private void ReopenOnSignal()
    {
        if (_options.IsStandardOutput)
        {
            return;
        }

        try
        {
            var reopened = LogFile.Open(_options.Path);
            _file.Dispose();
            _file = reopened;
            _length = _file.Length;
            _nextCheck = Environment.TickCount64 + CheckIntervalMilliseconds;
            _metrics.LogReopens.WithLabels("signal").Inc();
            LogReopened(_logger, _options.Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The file held stays in use; the next check decides whether it is still the one at the path.
            LogReopenFailed(_logger, _options.Path, e.Message);
        }
    }

    // While failing with nothing to write: is there room again? Then beats may be taken again. Without this a
    // load balancer that stops sending beats to a server whose /healthz says 503 would never see it recover.
    private void Probe()
    {
        try
        {
            if (!_options.IsStandardOutput)
            {
                LogFile.EnsureRoom(_options.Path, _buffer.WrittenCount);
            }
        }
        catch (IOException)
        {
            return; // still full: the error of the last write stands
        }

        _failing = false;
        LogRecovered(_logger, _options.Path);
    }

    private void Succeeded()
    {
        Volatile.Write(ref _lastWriteUtcTicks, _time.GetUtcNow().UtcTicks);
        if (_failing)
        {
            _failing = false;
            LogRecovered(_logger, _options.Path);
        }
    }

    private void Failed(Exception e)
    {
        _metrics.LogWriteErrors.Inc();
        var error = e.Message;
        // Once per spell of failures (and when the reason changes): a full disk must not also flood the console.
        if (!_failing || _lastError?.Message != error)
        {
            LogWriteFailed(_logger, _options.Path, error);
        }

        _lastError = new WriteError(error, _time.GetUtcNow());
        _failing = true;
    }

    private void RotateIfDue(int incomingBytes)
    {
        if (_options.IsStandardOutput
            || _options.MaxSizeBytes <= 0
            || _length == 0
            || _length + incomingBytes <= _options.MaxSizeBytes
            || _time.GetUtcNow() < _nextRotationAttempt)
        {
            return;
        }

        try
        {
            ShiftRotatedFiles();
            LogRotated(_logger, _options.Path, _options.Keep);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Keep appending to the current file rather than lose lines; try again a little later.
            _nextRotationAttempt = _time.GetUtcNow() + RotationRetryDelay;
            LogRotationFailed(_logger, _options.Path, e);
            return;
        }

        // The file held moved with its name; if the new one cannot be opened, this batch is refused and the next reopens.
        var fresh = LogFile.Open(_options.Path);
        _file.Dispose();
        _file = fresh;
        _length = _file.Length;
    }

    private void ShiftRotatedFiles()
    {
        var path = _options.Path;
        if (_options.Keep == 0)
        {
            File.Delete(path);
            return;
        }

        File.Delete(Rotated(_options.Keep));
        for (var generation = _options.Keep - 1; generation >= 1; generation--)
        {
            if (File.Exists(Rotated(generation)))
            {
                File.Move(Rotated(generation), Rotated(generation + 1));
            }
        }

        File.Move(path, Rotated(1));

        string Rotated(int generation) => string.Create(CultureInfo.InvariantCulture, $"{path}.{generation}");
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Error, Message = "Could not write to the heartbeat log {Path} ({Error}); beats are refused with 503 until it can be written")]
    private static partial void LogWriteFailed(ILogger logger, string path, string error);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Rotated the heartbeat log {Path}, keeping {Keep} old files")]
    private static partial void LogRotated(ILogger logger, string path, int keep);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "Could not rotate the heartbeat log {Path}; still appending to it and retrying in a minute")]
    private static partial void LogRotationFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(EventId = 103, Level = LogLevel.Information, Message = "Reopened the heartbeat log {Path} on SIGHUP")]
    private static partial void LogReopened(ILogger logger, string path);

    [LoggerMessage(EventId = 104, Level = LogLevel.Information, Message = "The heartbeat log {Path} was moved or deleted; reopened it at its path")]
    private static partial void LogReopenedMissing(ILogger logger, string path);

    [LoggerMessage(EventId = 105, Level = LogLevel.Warning, Message = "Could not reopen the heartbeat log {Path} on SIGHUP ({Error}); still writing to the file already open")]
    private static partial void LogReopenFailed(ILogger logger, string path, string error);

    [LoggerMessage(EventId = 106, Level = LogLevel.Information, Message = "The heartbeat log {Path} can be written again")]
    private static partial void LogRecovered(ILogger logger, string path);
}

// The heartbeat log could not take a line; the beat was not recorded and must be refused.
internal sealed class HeartbeatLogException(Exception inner)
    : IOException("The heartbeat log could not be written.", inner);
