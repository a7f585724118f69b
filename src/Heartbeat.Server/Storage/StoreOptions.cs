using Heartbeat.Server.Settings;

namespace Heartbeat.Server.Storage;

internal enum StoreKind
{
    Sqlite,
    Memory,
    Postgres,
}

internal sealed record StoreOptions
{
    public static readonly IReadOnlyList<Setting<StoreOptions>> Settings =
    [
        new ValueSetting<StoreOptions, string>
        {
            Name = "data", Variable = "HEARTBEAT_DATA", ValueName = "path",
            Help = "SQLite file that keeps hosts, their history and events across restarts",
            Parse = ValueParsers.Path("SQLite file path"),
            Get = o => o.Path, Set = (o, path) => o with { Path = path },
        },
        new ValueSetting<StoreOptions, StoreKind>
        {
            Name = "store", Variable = "HEARTBEAT_STORE", ValueName = "sqlite|memory|postgres",
            Help = "'sqlite' keeps state in the --data file; 'memory' forgets it at exit; 'postgres' shares it with other servers in the --postgres database",
            Parse = ValueParsers.OneOf<StoreKind>("a store"), Format = ValueParsers.Name,
            Get = o => o.Kind, Set = (o, kind) => o with { Kind = kind },
        },
        new ValueSetting<StoreOptions, string>
        {
            Name = "postgres", Variable = "HEARTBEAT_POSTGRES", ValueName = "connection", IsSecret = true,
            Help = "The PostgreSQL connection string of --store postgres, e.g. \"Host=db;Database=heartbeat;Username=heartbeat;Password=…\"",
            Parse = ValueParsers.Text,
            Get = o => o.Postgres, Set = (o, connection) => o with { Postgres = connection },
        },
    ];

    public StoreKind Kind { get; init; } = StoreKind.Sqlite;

    // The SQLite file; see DefaultPath.
    public string Path { get; init; } = DefaultPath();

    // The connection string of the shared PostgreSQL database (Postgres).
    public string? Postgres { get; init; }

    // How often changes are written; also the most state a crash can lose (the heartbeat log keeps every beat).
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    // $STATE_DIRECTORY when systemd provides one (StateDirectory=), else the XDG state directory.
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
