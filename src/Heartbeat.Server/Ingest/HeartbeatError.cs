namespace Heartbeat.Server.Ingest;

/// <summary>Why a body was refused, in words for the sender; <paramref name="Field"/> names the culprit when there is one.</summary>
internal sealed record HeartbeatError(string Detail, string? Field = null);
