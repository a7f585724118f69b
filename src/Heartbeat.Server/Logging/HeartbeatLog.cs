using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Heartbeat.Server.Diagnostics;

namespace Heartbeat.Server.Logging;

/// <summary>
/// The seed-format heartbeat log, with group commit: callers queue lines and await the write of the
/// batch that holds them, while one writer thread turns each batch into a single write(2) (and, with
/// --fsync, one fsync). A returned task means the line is in the operating system's hands, so a
/// kill -9 right after loses nothing; lines never tear or interleave because only the writer writes.
/// </summary>
internal sealed partial class HeartbeatLog : IAsyncDisposable
{
    private static readonly TimeSpan RotationRetryDelay = TimeSpan.FromMinutes(1);

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
    private bool _closing;

    // Owned by the writer thread after construction.
    private Stream _stream;
    private long _length;
    private DateTimeOffset _nextRotationAttempt = DateTimeOffset.MinValue;

    public HeartbeatLog(HeartbeatLogOptions options, TimeProvider time, ServerMetrics metrics, ILogger<HeartbeatLog> logger)
    {
        _options = options;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _stream = options.IsStandardOutput ? Console.OpenStandardOutput() : OpenFile(options.Path);
        _length = _stream.CanSeek ? _stream.Length : 0;
        new Thread(WriteBatches) { IsBackground = true, Name = "heartbeat-log" }.Start();
    }

    public string Path => _options.Path;

    /// <summary>Whether the latest batch could not be written (the health check reports it).</summary>
    public bool LastWriteFailed { get; private set; }

    /// <summary>
    /// Queues lines, kept together and in order; the task completes once they are written, or faults
    /// with <see cref="HeartbeatLogException"/>.
    /// </summary>
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

    /// <summary>Writes what is queued, closes the file, and stops the writer.</summary>
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

    private static FileStream OpenFile(string path) =>
        // No user-space buffer: each write goes straight to the kernel, which is what "acknowledged" promises.
        new(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);

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
            bool closing;
            lock (_gate)
            {
                batch = _pending;
                _pending = spare;
                written = _pendingWritten;
                _pendingWritten = NewBatchCompletion();
                _writerSignalled = false;
                closing = _closing;
            }

            try
            {
                if (batch.Count > 0)
                {
                    var started = Stopwatch.GetTimestamp();
                    Write(batch);
                    _metrics.LogBatches.Inc();
                    _metrics.LogWriteSeconds.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
                    LastWriteFailed = false;
                }

                written.SetResult();
            }
#pragma warning disable CA1031 // The writer must outlive any failure; the callers of this batch are told instead.
            catch (Exception e)
#pragma warning restore CA1031
            {
                LastWriteFailed = true;
                LogWriteFailed(_logger, _options.Path, e);
                written.SetException(new HeartbeatLogException(e));
            }

            batch.Clear();
            spare = batch;
            if (closing)
            {
                break;
            }
        }

        _stream.Dispose();
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
        _stream.Write(_buffer.WrittenSpan);
        _length += _buffer.WrittenCount;
        if (_options.Fsync && _stream is FileStream file)
        {
            file.Flush(flushToDisk: true);
        }
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

        _stream.Dispose();
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
        }

        _stream = OpenFile(_options.Path);
        _length = _stream.Length;
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

    [LoggerMessage(EventId = 100, Level = LogLevel.Error, Message = "Could not write to the heartbeat log {Path}; the beats of this batch were refused")]
    private static partial void LogWriteFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Rotated the heartbeat log {Path}, keeping {Keep} old files")]
    private static partial void LogRotated(ILogger logger, string path, int keep);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "Could not rotate the heartbeat log {Path}; still appending to it and retrying in a minute")]
    private static partial void LogRotationFailed(ILogger logger, string path, Exception exception);
}

/// <summary>The heartbeat log could not take a line; the beat was not recorded and must be refused.</summary>
internal sealed class HeartbeatLogException(Exception inner)
    : IOException("The heartbeat log could not be written.", inner);
