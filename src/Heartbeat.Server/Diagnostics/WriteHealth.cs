namespace Heartbeat.Server.Diagnostics;

// Whether a destination (the heartbeat log, the store) takes writes, when it last did, and its last error (kept after
// a recovery): what /healthz and /metrics report.
internal sealed record WriteStatus(bool Writable, DateTimeOffset? LastWrite, WriteError? LastError);

internal sealed record WriteError(string Message, DateTimeOffset At);

// A WriteStatus kept up to date by one writer and read from any thread.
internal sealed class WriteHealth(TimeProvider time)
{
    private volatile WriteStatus _status = new(Writable: true, LastWrite: null, LastError: null);

    public WriteStatus Status => _status;

    public void Succeeded() => _status = _status with { Writable = true, LastWrite = time.GetUtcNow() };

    // Says whether this failure starts a spell of them (or changes their reason): the one worth a log line.
    public bool Failed(string message)
    {
        var before = _status;
        _status = before with { Writable = false, LastError = new WriteError(message, time.GetUtcNow()) };
        return before.Writable || before.LastError?.Message != message;
    }

    // Something went wrong that the writer has mended on its own: still writable, but said.
    public void Mended(string message) => _status = _status with { LastError = new WriteError(message, time.GetUtcNow()) };
}
