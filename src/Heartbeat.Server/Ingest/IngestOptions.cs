using Heartbeat.Server.Settings;

namespace Heartbeat.Server.Ingest;

internal sealed record IngestOptions
{
    public static readonly IReadOnlyList<Setting<IngestOptions>> Settings =
    [
        new ValueSetting<IngestOptions, long>
        {
            Name = "max-body", Variable = "HEARTBEAT_MAX_BODY", ValueName = "size",
            Help = "Largest heartbeat body accepted; larger ones get 413",
            Parse = ValueParsers.Size("a body size", "65536, 64KiB, 1MiB", min: 1, max: 1L << 30), Format = ByteSize.Format,
            Get = o => o.MaxBodyBytes, Set = (o, size) => o with { MaxBodyBytes = size },
        },
    ];

    // The seed's default body limit is none at all; 64 KiB is far above any real heartbeat (a few hundred bytes).
    public long MaxBodyBytes { get; init; } = 64 * 1024;
}
