namespace Heartbeat.Server.Hosts;

/// <summary>
/// What changes hosts: beats, maintenance windows, job signals and forgetting. Two kinds: the registry itself,
/// on a server of its own, and the fleet ledger, which hands changes to the store that several servers share.
/// Events that result go to the <see cref="HostEventSink"/>, whenever they are decided.
/// </summary>
internal interface IHostLedger
{
    /// <summary>Records a beat whose line is in the log already; the task completes once the lines of the events it caused are too.</summary>
    Task RecordBeatAsync(ReceivedHeartbeat heartbeat, string peer);

    /// <summary>Starts (or with zero, ends) a maintenance window; false for an unknown host.</summary>
    Task<bool> SetMaintenanceAsync(string id, TimeSpan window);

    /// <summary>A job behind the host started; false for an unknown host.</summary>
    Task<bool> RecordStartAsync(string id, PingBody? body);

    /// <summary>Keeps a ping body without counting it as a beat; false for an unknown host.</summary>
    Task<bool> RecordLogAsync(string id, PingBody body);

    /// <summary>Changes a host's liveness settings; false for an unknown host.</summary>
    Task<bool> ConfigureAsync(string id, HostSettingsChange change);

    /// <summary>Expects a host that may not have beaten yet, with these settings; true when it was not known before.</summary>
    Task<bool> ExpectAsync(string id, HostSettingsChange change);

    /// <summary>Forgets a host and its history; false for an unknown host.</summary>
    Task<bool> ForgetAsync(string id);
}
