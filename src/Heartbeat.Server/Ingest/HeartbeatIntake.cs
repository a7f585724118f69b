using Heartbeat.Server.Diagnostics;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Logging;

namespace Heartbeat.Server.Ingest;

/// <summary>What every accepted beat goes through, whichever way it arrived: the host's state and the log, then the count.</summary>
internal sealed class HeartbeatIntake(IHostLedger ledger, ServerMetrics metrics)
{
    /// <summary>False when the heartbeat log cannot be written: the beat must then be refused, not acknowledged.</summary>
    public async Task<bool> AcceptAsync(ReceivedHeartbeat heartbeat, string peer)
    {
        try
        {
            // Not cancelled with the request: once accepted, the beat is written even if the client hangs up.
            await ledger.RecordBeatAsync(heartbeat, peer, LogLines.HeartbeatReceived(peer, heartbeat.Ip, heartbeat.Host));
        }
        catch (HeartbeatLogException)
        {
            return false;
        }

        metrics.HeartbeatsReceived.Inc();
        return true;
    }
}
