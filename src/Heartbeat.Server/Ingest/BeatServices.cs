using Heartbeat.Server.Hosts;
using Heartbeat.Server.Security;

namespace Heartbeat.Server.Ingest;

// What the beat routes use, from the root provider: a handler that takes services as parameters gets a service scope
// made for every request, and a beat needs none. Each is resolved at its first use, not when the routes are mapped:
// the intake opens the heartbeat log, and a log that cannot be opened is start-up's to report, in one line.
internal sealed class BeatServices(IServiceProvider services)
{
    public HeartbeatIntake Intake => field ??= services.GetRequiredService<HeartbeatIntake>();

    public BeatGate Gate => field ??= services.GetRequiredService<BeatGate>();

    public IHostLedger Ledger => field ??= services.GetRequiredService<IHostLedger>();

    public TimeProvider Time => field ??= services.GetRequiredService<TimeProvider>();
}
