using Heartbeat.Server.Diagnostics;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Logging;

namespace Heartbeat.Server.Ingest;

// What every accepted beat goes through, whichever way it arrived: its line in the log first, then the host's state.
// A beat whose line cannot be written is refused and changes nothing; once it is written, every read sees it.
internal sealed class HeartbeatIntake(IHostLedger ledger, HeartbeatLog log, ServerMetrics metrics, HostAdmission admission)
{
    // The bounds a new host must pass before its first beat is taken.
    public HostAdmission Admission => admission;

    // Why no beat can be taken now, asked before its line is written; null when it can (see IHostLedger.WhyNotNow).
    public string? WhyNotNow() => ledger.WhyNotNow();

    // False when the heartbeat log cannot be written: the beat must then be refused, not acknowledged.
    public async Task<bool> AcceptAsync(ReceivedHeartbeat heartbeat, string peer)
    {
        try
        {
            // Not cancelled with the request: once accepted, the beat is written even if the client hangs up.
            await log.AppendAsync(LogLines.HeartbeatReceived(peer, heartbeat.Ip, heartbeat.Host));
        }
        catch (HeartbeatLogException)
        {
            return false;
        }

        metrics.HeartbeatsReceived.Inc();
        try
        {
            await ledger.RecordBeatAsync(heartbeat, peer);
        }
        catch (HeartbeatLogException)
        {
            // The beat is written and applied; only the lines of its events are not, and /healthz says the log is failing.
        }

        return true;
    }
}
