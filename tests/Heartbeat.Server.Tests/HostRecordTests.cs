using Heartbeat.Server.Hosts;

namespace Heartbeat.Server.Tests;

/// <summary>A host's record as readers get it: a copy that later changes to the host do not reach, and times that
/// come back as the same instants they were set to.</summary>
public sealed class HostRecordTests
{
    private static readonly DateTimeOffset Noon = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void ACopyKeepsWhatWasSetWhenTheHostChangesAfterwards()
    {
        var host = new HostRecord("backup-job")
        {
            MaintenanceUntil = Noon,
            ConfiguredInterval = TimeSpan.FromHours(1),
            Schedule = "0 3 * * *",
            TimeZone = "Europe/Berlin",
            StartedAt = Noon.AddMinutes(-5),
            LastBody = new PingBody(Noon, "success", "done"),
            LastSeen = Noon,
        };

        var copy = host.Copy();
        host.MaintenanceUntil = null;
        host.ConfiguredInterval = TimeSpan.FromMinutes(5);
        host.Schedule = null;
        host.TimeZone = null;
        host.StartedAt = null;
        host.LastBody = null;
        host.LastSeen = Noon.AddHours(1);

        Assert.Equal(Noon, copy.MaintenanceUntil);
        Assert.Equal(TimeSpan.FromHours(1), copy.ConfiguredInterval);
        Assert.Equal("0 3 * * *", copy.Schedule);
        Assert.NotNull(copy.Cron);
        Assert.Equal("Europe/Berlin", copy.TimeZone);
        Assert.Equal(Noon.AddMinutes(-5), copy.StartedAt);
        Assert.Equal("done", copy.LastBody?.Text);
        Assert.Equal(Noon, copy.LastSeen);

        Assert.Null(host.MaintenanceUntil);
        Assert.Null(host.Cron);
        Assert.Null(host.Zone);
        Assert.Equal(TimeSpan.FromMinutes(5), host.ConfiguredInterval);
    }

    [Fact]
    public void TimesAndDurationsComeBackAsSetAndUnsetOnesAsNull()
    {
        var inBerlin = new DateTimeOffset(2026, 12, 2, 13, 0, 0, TimeSpan.FromHours(1));
        var host = new HostRecord("nas") { FirstSeen = inBerlin, DueAt = inBerlin, ClockSkew = TimeSpan.FromSeconds(-3) };

        Assert.Equal(Noon, host.FirstSeen);
        Assert.Equal(Noon, host.DueAt);
        Assert.Equal(TimeSpan.FromSeconds(-3), host.ClockSkew);
        Assert.Null(host.DeclaredInterval);
        Assert.Null(host.LearnedInterval);
        Assert.Null(host.ConfiguredGrace);
        Assert.Null(host.DuplicateSeenAt);

        host.DueAt = null;
        host.ClockSkew = null;
        Assert.Null(host.DueAt);
        Assert.Null(host.ClockSkew);
    }
}
