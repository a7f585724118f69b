namespace Heartbeat.Server.Logging;

// Whether the heartbeat log takes lines, when it last did, and its last error (kept after a recovery).
internal sealed record LogStatus(bool Writable, DateTimeOffset? LastWrite, LogError? LastError);

internal sealed record LogError(string Message, DateTimeOffset At);
