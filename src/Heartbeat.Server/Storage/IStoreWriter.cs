using Heartbeat.Server.Diagnostics;

namespace Heartbeat.Server.Storage;

// What writes this server's changes to its store: the lone server's flusher, or a fleet server's sync with the shared
// store. Reads of the store's history flush first, so that they reflect every beat acknowledged before them.
internal interface IStoreWriter
{
    // How writing to the store goes: what /healthz and /metrics report.
    WriteStatus Status { get; }

    Task FlushAsync(CancellationToken cancellationToken);
}
