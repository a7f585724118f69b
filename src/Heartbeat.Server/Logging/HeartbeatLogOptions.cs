namespace Heartbeat.Server.Logging;

internal sealed record HeartbeatLogOptions
{
    public const string StandardOutput = "-";
    public const string DefaultPath = "/tmp/heartbeat_server.log";
    public const long DefaultMaxSizeBytes = 100L * 1024 * 1024;
    public const int DefaultKeep = 5;

    /// <summary>File the heartbeat lines are appended to, or "-" for standard output.</summary>
    public string Path { get; init; } = DefaultPath;

    /// <summary>Size at which the file is rotated; 0 turns rotation off.</summary>
    public long MaxSizeBytes { get; init; } = DefaultMaxSizeBytes;

    /// <summary>How many rotated files (path.1 … path.N) are kept.</summary>
    public int Keep { get; init; } = DefaultKeep;

    /// <summary>fsync after every batch, so an acknowledged beat survives a power cut, not only a crash.</summary>
    public bool Fsync { get; init; }

    public bool IsStandardOutput => Path == StandardOutput;
}
