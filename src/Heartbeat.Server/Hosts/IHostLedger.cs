namespace Heartbeat.Server.Hosts;

// What changes hosts: beats, maintenance windows, job signals and forgetting. Two kinds: the registry itself,
// on a server of its own, and the fleet ledger, which hands changes to the store that several servers share.
// Events that result go to the HostEventSink, whenever they are decided.
internal interface IHostLedger
{
    // Null when a beat can be taken now; else why not (a fleet server whose store has been away until its queue of
    // changes reached its bound), said once in the server's log when it starts. Asked before the beat's line is written.
    string? WhyNotNow();

    // Records a beat whose line is in the log already; the task completes once the lines of the events it caused are too.
    Task RecordBeatAsync(ReceivedHeartbeat heartbeat, string peer);

    // Starts (or with zero, ends) a maintenance window; false for an unknown host.
    Task<bool> SetMaintenanceAsync(string id, TimeSpan window);

    // A job behind the host started; false for an unknown host.
    Task<bool> RecordStartAsync(string id, PingBody? body);

    // Keeps a ping body without counting it as a beat; false for an unknown host.
    Task<bool> RecordLogAsync(string id, PingBody body);

    // Changes a host's liveness settings; false for an unknown host.
    Task<bool> ConfigureAsync(string id, HostSettingsChange change);

    // Expects a host that may not have beaten yet, with these settings; true when it was not known before.
    Task<bool> ExpectAsync(string id, HostSettingsChange change);

    // Forgets a host and its history; false for an unknown host.
    Task<bool> ForgetAsync(string id);
}
