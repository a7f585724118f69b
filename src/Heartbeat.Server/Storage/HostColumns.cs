using System.Globalization;
using Heartbeat.Server.Hosts;

namespace Heartbeat.Server.Storage;

internal enum ColumnKind
{
    // TEXT in SQLite, text in PostgreSQL; a string.
    Text,

    // INTEGER in SQLite, bigint in PostgreSQL; a long. Times are UTC Unix milliseconds, durations milliseconds.
    Integer,
}

// One column of the hosts table: how a host's field is stored, and how it is read back into a host from a row's
// ordinal (typed, so that a restore of a million hosts boxes none of their values).
internal sealed record HostColumn(string Name, ColumnKind Kind, bool Required, Func<HostRecord, object?> Get, Action<HostRecord, IStoredRow, int> Read)
{
    // A ping body: kilobytes where every other column is a few bytes, and the same from one beat to the next. Stores
    // write it only when it changed (see HostChanges.SameBodies); SQLite keeps it in a table of its own.
    public bool Bulky { get; init; }

    // Whether two hosts hold the same value here; a typed comparison where one is given, so that none is boxed.
    public Func<HostRecord, HostRecord, bool> Same { get; init; } = (a, b) => Equals(Get(a), Get(b));

    public string SqliteType => (Kind == ColumnKind.Text ? "TEXT" : "INTEGER") + (Required ? " NOT NULL" : string.Empty);

    public string PostgresType => Kind == ColumnKind.Text ? "text" : "bigint";
}

// The hosts table, once for both stores: each store builds its schema, its writes and its reads from this list, so a
// field added to HostRecord is stored by adding one line here. The id comes first.
internal static class HostColumns
{
    public static readonly IReadOnlyList<HostColumn> All =
    [
        new("id", ColumnKind.Text, true, h => h.Id, (_, _, _) => { }),
        Text("reported_ip", h => h.ReportedIp, (h, v) => h.ReportedIp = v),
        Text("peer", h => h.Peer, (h, v) => h.Peer = v!, required: true, shared: true),
        Time("first_seen", h => h.FirstSeen, (h, v) => h.FirstSeen = v),
        Time("last_seen", h => h.LastSeen, (h, v) => h.LastSeen = v),
        Number("beats", h => h.Beats, (h, v) => h.Beats = v ?? 0, required: true),
        Text("message", h => h.Message, (h, v) => h.Message = v),
        Named<HeartbeatStatus>("client_status", h => h.ClientStatus, (h, v) => h.ClientStatus = v),
        Duration("declared_interval_ms", h => h.DeclaredInterval, (h, v) => h.DeclaredInterval = v),
        Duration("learned_interval_ms", h => h.LearnedInterval, (h, v) => h.LearnedInterval = v),
        Named<HostState>("state", h => h.State, (h, v) => h.State = v),
        Time("state_since", h => h.StateSince, (h, v) => h.StateSince = v),
        Number("ip_changes", h => h.IpChanges, (h, v) => h.IpChanges = (int)(v ?? 0), required: true),
        Number("declared_misses", h => h.DeclaredMisses, (h, v) => h.DeclaredMisses = (int?)v),
        Duration("configured_interval_ms", h => h.ConfiguredInterval, (h, v) => h.ConfiguredInterval = v),
        Duration("configured_grace_ms", h => h.ConfiguredGrace, (h, v) => h.ConfiguredGrace = v),
        Number("configured_misses", h => h.ConfiguredMisses, (h, v) => h.ConfiguredMisses = (int?)v),
        Text("schedule", h => h.Schedule, (h, v) => h.Schedule = v),
        Text("time_zone", h => h.TimeZone, (h, v) => h.TimeZone = v),
        OptionalTime("maintenance_until", h => h.MaintenanceUntil, (h, v) => h.MaintenanceUntil = v),
        Text("boot_id", h => h.BootId, (h, v) => h.BootId = v),
        Text("previous_boot_id", h => h.PreviousBootId, (h, v) => h.PreviousBootId = v),
        OptionalTime("duplicate_seen_at", h => h.DuplicateSeenAt, (h, v) => h.DuplicateSeenAt = v),
        Duration("clock_skew_ms", h => h.ClockSkew, (h, v) => h.ClockSkew = v),
        Text("host_group", h => h.Group, (h, v) => h.Group = v, shared: true),
        OptionalTime("started_at", h => h.StartedAt, (h, v) => h.StartedAt = v),
        Duration("last_run_ms", h => h.LastRunTime, (h, v) => h.LastRunTime = v),

        // A ping body is three columns; its time comes first and makes it exist.
        OptionalTime("body_at", h => h.LastBody?.At, (h, v) => h.LastBody = v is { } at ? new PingBody(at, string.Empty, string.Empty) : null),
        Text("body_kind", h => h.LastBody?.Kind, (h, v) => h.LastBody = h.LastBody is { } body ? body with { Kind = v ?? string.Empty } : null) with { Bulky = true },
        Text("body", h => h.LastBody?.Text, (h, v) => h.LastBody = h.LastBody is { } body ? body with { Text = v } : null) with { Bulky = true },

        // What another server (a fleet's) needs to go on judging the host: the pause credit, the gaps it learns from, its next deadline.
        Duration("pause_credit_ms", h => h.PauseCredit, (h, v) => h.PauseCredit = v ?? TimeSpan.Zero),
        new("gaps", ColumnKind.Text, false, h => FormatGaps(h.Gaps.Samples()), (h, r, i) => h.Gaps = r.IsNull(i) ? default : ParseGaps(r.GetChars(i, stackalloc char[256])))
        {
            Same = (a, b) => a.Gaps.SameAs(b.Gaps),
        },
        OptionalTime("due_at", h => h.DueAt, (h, v) => h.DueAt = v),
    ];

    // The columns that are not bulky, in order (the id first), and the bulky ones.
    public static readonly IReadOnlyList<HostColumn> Small = [.. All.Where(c => !c.Bulky)];

    public static readonly IReadOnlyList<HostColumn> Bulky = [.. All.Where(c => c.Bulky)];

    // Every column's name, comma-separated, in order: for SELECT and INSERT lists.
    public static readonly string Names = string.Join(", ", All.Select(c => c.Name));

    // Reads a host whose columns the query selected in the order of columns (All unless given), from ordinal first on.
    public static HostRecord Read(IStoredRow row, int first = 0, IReadOnlyList<HostColumn>? columns = null)
    {
        columns ??= All;
        var host = new HostRecord(row.GetString(first));
        for (var i = 1; i < columns.Count; i++)
        {
            columns[i].Read(host, row, first + i);
        }

        return host;
    }

    public static DateTimeOffset ToTime(long milliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);

    // A required column is never NULL: asking would cost a call into SQLite per column and host. A shared one has few
    // distinct values among many hosts (see IStoredRow.GetShared).
    private static HostColumn Text(string name, Func<HostRecord, string?> get, Action<HostRecord, string?> set, bool required = false, bool shared = false) =>
        new(name, ColumnKind.Text, required, get, (h, r, i) => set(h, !required && r.IsNull(i) ? null : shared ? r.GetShared(i) : r.GetString(i)))
        {
            Same = (a, b) => string.Equals(get(a), get(b), StringComparison.Ordinal),
        };

    // An enum, stored by its name: parsed from the row's text without making a string of it.
    private static HostColumn Named<TEnum>(string name, Func<HostRecord, TEnum> get, Action<HostRecord, TEnum> set)
        where TEnum : struct, Enum =>
        new(name, ColumnKind.Text, true, h => get(h).ToString(), (h, r, i) => set(h, Enum.Parse<TEnum>(r.GetChars(i, stackalloc char[32]))))
        {
            Same = (a, b) => EqualityComparer<TEnum>.Default.Equals(get(a), get(b)),
        };

    private static HostColumn Number(string name, Func<HostRecord, long?> get, Action<HostRecord, long?> set, bool required = false) =>
        new(name, ColumnKind.Integer, required, h => get(h), (h, r, i) => set(h, !required && r.IsNull(i) ? null : r.GetInt64(i)))
        {
            Same = (a, b) => get(a) == get(b),
        };

    private static HostColumn Time(string name, Func<HostRecord, DateTimeOffset> get, Action<HostRecord, DateTimeOffset> set) =>
        new(name, ColumnKind.Integer, true, h => get(h).ToUnixTimeMilliseconds(), (h, r, i) => set(h, ToTime(r.GetInt64(i))))
        {
            Same = (a, b) => get(a) == get(b),
        };

    private static HostColumn OptionalTime(string name, Func<HostRecord, DateTimeOffset?> get, Action<HostRecord, DateTimeOffset?> set) =>
        new(name, ColumnKind.Integer, false, h => get(h)?.ToUnixTimeMilliseconds(), (h, r, i) => set(h, r.IsNull(i) ? null : ToTime(r.GetInt64(i))))
        {
            Same = (a, b) => get(a) == get(b),
        };

    private static HostColumn Duration(string name, Func<HostRecord, TimeSpan?> get, Action<HostRecord, TimeSpan?> set) =>
        new(name, ColumnKind.Integer, false, h => (long?)get(h)?.TotalMilliseconds, (h, r, i) => set(h, r.IsNull(i) ? null : TimeSpan.FromMilliseconds(r.GetInt64(i))))
        {
            Same = (a, b) => get(a) == get(b),
        };

    private static string? FormatGaps(float[] gaps) =>
        gaps.Length == 0 ? null : string.Join(',', gaps.Select(g => g.ToString("R", CultureInfo.InvariantCulture)));

    // An estimator that has seen the gaps FormatGaps wrote, oldest first.
    private static IntervalEstimator ParseGaps(ReadOnlySpan<char> text)
    {
        var estimator = default(IntervalEstimator);
        foreach (var gap in text.IsEmpty ? default : text.Split(','))
        {
            estimator.Add(TimeSpan.FromSeconds(float.Parse(text[gap], CultureInfo.InvariantCulture)));
        }

        return estimator;
    }
}
