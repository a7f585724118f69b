using Heartbeat.Server.Hosts;
using Heartbeat.Server.Security;

namespace Heartbeat.Server.Ingest;

// What the beat routes use, taken once from the root provider when they are mapped: a handler that takes services as
// parameters gets a service scope made for every request, and a beat needs none.
internal sealed record BeatServices(HeartbeatIntake Intake, BeatGate Gate, IHostLedger Ledger, TimeProvider Time)
{
    public static BeatServices From(IServiceProvider services) => new(
        services.GetRequiredService<HeartbeatIntake>(), services.GetRequiredService<BeatGate>(),
        services.GetRequiredService<IHostLedger>(), services.GetRequiredService<TimeProvider>());
}
