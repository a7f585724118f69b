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
        new ValueSetting<StoreOptions, int>
        {
            Name = "fleet-max-waiting", Variable = "HEARTBEAT_FLEET_MAX_WAITING", ValueName = "count",
            Help = "With --store postgres: most changes (beats, admin actions) that may wait in memory while the database is away; past it, beats get 503 until it is back",
            Parse = ValueParsers.Int(1_000, 10_000_000, "a number of changes"),
            Get = o => o.FleetMaxWaiting, Set = (o, max) => o with { FleetMaxWaiting = max },
        },
    ];

    public StoreKind Kind { get; init; } = StoreKind.Sqlite;

    // The SQLite file; see DefaultPath.
    public string Path { get; init; } = DefaultPath();

    // The connection string of the shared PostgreSQL database (Postgres).
    public string? Postgres { get; init; }

    // A change waiting is about half a kilobyte (more with a ping body): 100,000 of them, some 10 to 20 s of a busy
    // fleet's beats at one server, stay well inside a small VM's memory.
    public int FleetMaxWaiting { get; init; } = 100_000;

    // How often changes are written; also the most state a crash can lose (the heartbeat log keeps every beat).
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    // Where a service keeps its state when nothing better is known: the directory systemd's StateDirectory=heartbeat makes.
    public const string ServiceDefaultPath = "/var/lib/heartbeat/heartbeat.db";

    // $STATE_DIRECTORY when systemd provides one (StateDirectory=), else the XDG state directory of a user with a home,
    // else (a service user: HOME unset, relative, / or missing) ServiceDefaultPath. Never a relative path, which would
    // depend on the directory the server happens to be started in.
    public static string DefaultPath()
    {
        var systemd = Environment.GetEnvironmentVariable("STATE_DIRECTORY")?.Split(':')[0];
        if (!string.IsNullOrEmpty(systemd) && System.IO.Path.IsPathFullyQualified(systemd))
        {
            return System.IO.Path.Combine(systemd, "heartbeat.db");
        }

        // The XDG spec: a relative XDG_STATE_HOME is to be ignored.
        var xdg = Environment.GetEnvironmentVariable("XDG_STATE_HOME");
        if (!string.IsNullOrEmpty(xdg) && System.IO.Path.IsPathFullyQualified(xdg))
        {
            return System.IO.Path.Combine(xdg, "heartbeat", "heartbeat.db");
        }

        var home = Environment.GetEnvironmentVariable("HOME");
        return !string.IsNullOrEmpty(home) && System.IO.Path.IsPathFullyQualified(home) && home != "/" && Directory.Exists(home)
            ? System.IO.Path.Combine(home, ".local", "state", "heartbeat", "heartbeat.db")
            : ServiceDefaultPath;
    }
}
