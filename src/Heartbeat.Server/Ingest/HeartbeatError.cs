namespace Heartbeat.Server.Ingest;

// Why a body was refused, in words for the sender; Field names the culprit when there is one.
internal sealed record HeartbeatError(string Detail, string? Field = null);
