using Heartbeat.Server.Ingest;

namespace Heartbeat.Server.Hosts;

/// <summary>
/// What changes hosts: beats, maintenance windows, job signals and forgetting. Two kinds: the registry itself,
/// on a server of its own, and the fleet ledger, which hands changes to the store that several servers share.
/// </summary>
internal interface IHostLedger
{
    /// <summary>Records a beat; returns the events it caused, for the log after the beat's line (none where the store decides them later).</summary>
    IReadOnlyList<HostEvent> RecordBeat(ReceivedHeartbeat heartbeat, string peer);

    /// <summary>Starts (or with zero, ends) a maintenance window; the events to log, or null for an unknown host.</summary>
    Task<IReadOnlyList<HostEvent>?> SetMaintenanceAsync(string id, TimeSpan window);

    /// <summary>A job behind the host started; false for an unknown host.</summary>
    Task<bool> RecordStartAsync(string id, PingBody? body);

    /// <summary>Keeps a ping body without counting it as a beat; false for an unknown host.</summary>
    Task<bool> RecordLogAsync(string id, PingBody body);

    /// <summary>Forgets a host and its history; false for an unknown host.</summary>
    Task<bool> ForgetAsync(string id);
}
