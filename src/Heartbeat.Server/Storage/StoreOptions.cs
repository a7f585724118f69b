namespace Heartbeat.Server.Storage;

internal enum StoreKind
{
    Sqlite,
    Memory,
    Postgres,
}

internal sealed record StoreOptions
{
    public StoreKind Kind { get; init; } = StoreKind.Sqlite;

    /// <summary>The SQLite file; see <see cref="DefaultPath"/>.</summary>
    public string Path { get; init; } = DefaultPath();

    /// <summary>The connection string of the shared PostgreSQL database (<see cref="StoreKind.Postgres"/>).</summary>
    public string? Postgres { get; init; }

    /// <summary>How often changes are written; also the most state a crash can lose (the heartbeat log keeps every beat).</summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>$STATE_DIRECTORY when systemd provides one (StateDirectory=), else the XDG state directory.</summary>
    public static string DefaultPath()
    {
        var systemd = Environment.GetEnvironmentVariable("STATE_DIRECTORY")?.Split(':')[0];
        if (!string.IsNullOrEmpty(systemd))
        {
            return System.IO.Path.Combine(systemd, "heartbeat.db");
        }

        var xdg = Environment.GetEnvironmentVariable("XDG_STATE_HOME");
        var stateHome = string.IsNullOrEmpty(xdg)
            ? System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state")
            : xdg;
        return System.IO.Path.Combine(stateHome, "heartbeat", "heartbeat.db");
    }
}
