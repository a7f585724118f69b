using Heartbeat.Server.Diagnostics;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Logging;

namespace Heartbeat.Server.Ingest;

/// <summary>What every accepted beat goes through, whichever way it arrived: host state, then the log, then the count.</summary>
internal sealed class HeartbeatIntake(IHostLedger ledger, HeartbeatLog log, ServerMetrics metrics)
{
    /// <summary>False when the heartbeat log cannot be written: the beat must then be refused, not acknowledged.</summary>
    public async Task<bool> AcceptAsync(ReceivedHeartbeat heartbeat, string peer)
    {
        var events = ledger.RecordBeat(heartbeat, peer);
        try
        {
            // The beat's line and the lines of the events it caused go out together, in that order. Not
            // cancelled with the request: once accepted, the beat is written even if the client hangs up.
            await log.AppendAsync([LogLines.HeartbeatReceived(peer, heartbeat), .. events.Select(e => e.Summary)]);
        }
        catch (HeartbeatLogException)
        {
            return false;
        }

        metrics.HeartbeatsReceived.Inc();
        return true;
    }
}
