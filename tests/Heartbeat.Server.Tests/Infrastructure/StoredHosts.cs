using Heartbeat.Server.Hosts;

namespace Heartbeat.Server.Tests.Infrastructure;

/// <summary>Hosts as a store takes them, with only what its required columns need.</summary>
internal static class StoredHosts
{
    /// <summary>A host seen once at <paramref name="at"/>; up until due, down when due is null.</summary>
    public static HostRecord Seen(string id, DateTimeOffset at, DateTimeOffset? due, string peer = "10.0.0.9") => new(id)
    {
        Peer = peer,
        FirstSeen = at,
        LastSeen = at,
        StateSince = at,
        Beats = 1,
        State = due is null ? HostState.Down : HostState.Up,
        DueAt = due,
    };
}
