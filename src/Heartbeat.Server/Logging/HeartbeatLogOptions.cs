using Heartbeat.Server.Settings;

namespace Heartbeat.Server.Logging;

internal sealed record HeartbeatLogOptions
{
    public const string StandardOutput = "-";

    public static readonly IReadOnlyList<Setting<HeartbeatLogOptions>> Settings =
    [
        new ValueSetting<HeartbeatLogOptions, string>
        {
            Name = "log-file", Variable = "HEARTBEAT_LOG_FILE", ValueName = "path",
            Help = "Heartbeat log to append to; '-' writes to standard output",
            Parse = ValueParsers.Path("log file path"),
            Get = o => o.Path, Set = (o, path) => o with { Path = path },
        },
        new ValueSetting<HeartbeatLogOptions, long>
        {
            Name = "log-max-size", Variable = "HEARTBEAT_LOG_MAX_SIZE", ValueName = "size",
            Help = "Rotate the log when it would grow past this size; 0 never rotates",
            Parse = ValueParsers.Size("a size", "0, 1048576, 64KiB, 100MiB, 1GiB"), Format = ByteSize.Format,
            Get = o => o.MaxSizeBytes, Set = (o, size) => o with { MaxSizeBytes = size },
        },
        new ValueSetting<HeartbeatLogOptions, int>
        {
            Name = "log-keep", Variable = "HEARTBEAT_LOG_KEEP", ValueName = "count",
            Help = "Rotated log files to keep (path.1 is the newest)",
            Parse = ValueParsers.Int(0, 1000, "a count of rotated files"),
            Get = o => o.Keep, Set = (o, keep) => o with { Keep = keep },
        },
        new ValueSetting<HeartbeatLogOptions, bool>
        {
            Name = "fsync", Variable = "HEARTBEAT_FSYNC", ValueName = "bool",
            Help = "fsync the log after every batch: acknowledged beats survive a power cut, at some cost in speed",
            Parse = ValueParsers.Bool,
            Get = o => o.Fsync, Set = (o, fsync) => o with { Fsync = fsync },
        },
    ];

    // File the heartbeat lines are appended to, or "-" for standard output; the seed's default.
    public string Path { get; init; } = "/tmp/heartbeat_server.log";

    // Size at which the file is rotated; 0 turns rotation off.
    public long MaxSizeBytes { get; init; } = 100L * 1024 * 1024;

    // How many rotated files (path.1 … path.N) are kept.
    public int Keep { get; init; } = 5;

    // fsync after every batch, so an acknowledged beat survives a power cut, not only a crash.
    public bool Fsync { get; init; }

    public bool IsStandardOutput => Path == StandardOutput;
}
