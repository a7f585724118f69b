using System.Net;
using Heartbeat.Server.Diagnostics;
using Heartbeat.Server.Notify;
using Heartbeat.Server.Tests.Infrastructure;

namespace Heartbeat.Server.Tests;

/// <summary>/metrics as alert rules read it: a series per host, build info, process metrics, a bound for huge fleets.</summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task EachHostHasItsUpStateLastBeatAndIntervalByHostAndGroupAndLosesThemWhenForgotten()
    {
        await using var server = await InProcessServer.StartAsync();
        var before = DateTimeOffset.UtcNow;
        await Beat(server, """{"host":"web-1","group":"office","interval":3600}""");
        await Beat(server, """{"host":"db-1","interval":1}""");
        await Beat(server, """{"host":"job","status":"fail"}""");

        var scrape = await Eventually.ValueAsync(
            async () => await Scrape.ReadAsync(server.Client) is var s && s.Of("heartbeat_host_state", ("host", "db-1"), ("state", "down")).Count == 1 ? s : null,
            "db-1 to be down at /metrics");

        Assert.Equal(1, scrape.Value("heartbeat_host_up", ("host", "web-1"), ("group", "office")));
        Assert.Equal(0, scrape.Value("heartbeat_host_up", ("host", "db-1"), ("group", "")));
        Assert.Equal(0, scrape.Value("heartbeat_host_up", ("host", "job")));
        Assert.Equal(1, scrape.Value("heartbeat_host_state", ("host", "web-1"), ("group", "office"), ("state", "up")));
        Assert.Equal(1, scrape.Value("heartbeat_host_state", ("host", "job"), ("state", "failing")));
        Assert.Single(scrape.Of("heartbeat_host_state", ("host", "db-1"))); // its "up" series went when it went down
        Assert.Equal(3600, scrape.Value("heartbeat_host_interval_seconds", ("host", "web-1")));
        Assert.Equal(1, scrape.Value("heartbeat_host_interval_seconds", ("host", "db-1")));
        Assert.Equal(60, scrape.Value("heartbeat_host_interval_seconds", ("host", "job"))); // the default
        var lastSeen = scrape.Value("heartbeat_host_last_seen_timestamp_seconds", ("host", "web-1"), ("group", "office"));
        Assert.InRange(lastSeen, before.ToUnixTimeMilliseconds() / 1000.0 - 1, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0 + 1);
        Assert.Equal(0, scrape.Value("heartbeat_host_series_omitted"));

        var forgotten = await server.Client.DeleteAsync("/api/v1/hosts/db-1", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NoContent, forgotten.StatusCode);
        var after = await Scrape.ReadAsync(server.Client);
        Assert.DoesNotContain(after.Samples, s => s.Labels.TryGetValue("host", out var host) && host == "db-1");
        Assert.Equal(1, after.Value("heartbeat_host_up", ("host", "web-1")));
    }

    [Fact]
    public async Task PastMetricsMaxHostsTheHostsInTroubleKeepTheirSeriesAndTheRestAreCounted()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { Diagnostics = new DiagnosticsOptions { MetricsMaxHosts = 2 } });
        await Beat(server, """{"host":"a","interval":3600}""");
        await Beat(server, """{"host":"b","interval":3600}""");
        await Beat(server, """{"host":"c","interval":3600}""");
        await Beat(server, """{"host":"z","status":"fail"}""");

        var scrape = await Scrape.ReadAsync(server.Client);

        Assert.Equal(["a", "z"], scrape.Of("heartbeat_host_up").Select(s => s.Labels["host"]).Order(StringComparer.Ordinal));
        Assert.Equal(2, scrape.Of("heartbeat_host_state").Count);
        Assert.Equal(2, scrape.Value("heartbeat_host_series_omitted"));
        Assert.Equal(3, scrape.Value("heartbeat_hosts", ("state", "up"))); // every host is still counted by state
    }

    [Fact]
    public async Task BuildInfoNamesVersionCommitRuntimeAndStoreBesideProcessMetrics()
    {
        await using var server = await InProcessServer.StartAsync();

        var scrape = await Scrape.ReadAsync(server.Client);

        var build = Assert.Single(scrape.Of("heartbeat_build_info"));
        Assert.Equal(1, build.Value);
        Assert.Equal("sqlite", build.Labels["store"]);
        Assert.Matches(@"^\d+\.\d+\.\d+", build.Labels["version"]);
        Assert.DoesNotContain("+", build.Labels["version"], StringComparison.Ordinal);
        Assert.Matches("^([0-9a-f]{40})?$", build.Labels["commit"]);
        Assert.StartsWith(".NET 10.", build.Labels["runtime"], StringComparison.Ordinal);
        Assert.InRange(scrape.Value("process_start_time_seconds"), DateTimeOffset.UtcNow.AddDays(-1).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        Assert.True(scrape.Value("process_working_set_bytes") > 0);
        Assert.True(scrape.Value("process_cpu_seconds_total") > 0);
        Assert.NotEmpty(scrape.Of("dotnet_collection_count_total"));
    }

    [Fact]
    public async Task PromtoolAcceptsARealScrapeTheShippedRulesAndTheirUnitTests()
    {
        var promtool = Promtool();
        await using var server = await InProcessServer.StartAsync();
        await Beat(server, """{"host":"web-1","group":"office"}""");
        using var directory = new TempDirectory();
        var scrapeFile = directory.File("scrape.txt");
        await File.WriteAllTextAsync(scrapeFile, (await Scrape.ReadAsync(server.Client)).Text, TestContext.Current.CancellationToken);

        // check metrics reads standard input; a shell hands it the file.
        var (metricsExit, metricsOutput) = await Tool.RunAsync("/bin/sh", "-c", $"{promtool} check metrics < '{scrapeFile}'");
        var (rulesExit, rulesOutput) = await Tool.RunAsync(promtool, "check", "rules", Repository.File("deploy", "prometheus", "heartbeat-rules.yaml"));
        var (testExit, testOutput) = await Tool.RunAsync(promtool, "test", "rules", Repository.File("deploy", "prometheus", "heartbeat-rules.test.yaml"));

        Assert.True(metricsExit == 0 && metricsOutput.Trim().Length == 0, $"promtool check metrics: {metricsOutput}");
        Assert.True(rulesExit == 0, rulesOutput);
        Assert.True(testExit == 0, testOutput);
        Assert.Contains("SUCCESS", testOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryMetricTheAlertRulesAndTheDashboardQueryIsOneARealServerExports()
    {
        var promtool = Promtool();
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await InProcessServer.StartAsync(o => o with { Notify = o.Notify with { Webhooks = [WebhookSpec.Parse($"{receiver.Url}hook#new")] } });
        await Beat(server, """{"host":"web-1","group":"office","interval":3600}""");
        await Beat(server, """{"host":"db-1","interval":1}""");
        Assert.Equal(HttpStatusCode.BadRequest, (await server.PostAsync("{not json")).StatusCode);
        await receiver.WaitForAsync(r => r.Body.Contains("db-1", StringComparison.Ordinal), "the new-host webhook");
        var scrape = await Eventually.ValueAsync(
            async () => await Scrape.ReadAsync(server.Client) is var s
                && s.Of("heartbeat_host_state", ("state", "down")).Count == 1 && s.Of("heartbeat_notifications_total", ("result", "delivered")).Count == 1 ? s : null,
            "a scrape with a host down and a delivered notification");
        var exported = scrape.Names.Append("up").ToHashSet(StringComparer.Ordinal); // up: Prometheus's own, per target

        var rules = PromQl.RuleExpressions(Repository.File("deploy", "prometheus", "heartbeat-rules.yaml"));
        var dashboard = PromQl.DashboardExpressions(Repository.File("deploy", "grafana", "heartbeat-dashboard.json"));

        // The rules' expressions are all there are (promtool counts the rules), and the dashboard's all parse.
        var (rulesExit, rulesOutput) = await Tool.RunAsync(promtool, "check", "rules", Repository.File("deploy", "prometheus", "heartbeat-rules.yaml"));
        Assert.True(rulesExit == 0, rulesOutput);
        Assert.Contains($"SUCCESS: {rules.Count} rules found", rulesOutput, StringComparison.Ordinal);
        using var directory = new TempDirectory();
        var asRules = directory.File("dashboard-rules.yaml");
        await File.WriteAllTextAsync(asRules, PromQl.AsRecordingRules(dashboard.Queries), TestContext.Current.CancellationToken);
        var (dashboardExit, dashboardOutput) = await Tool.RunAsync(promtool, "check", "rules", asRules);
        Assert.True(dashboardExit == 0, $"the dashboard's queries: {dashboardOutput}");

        var used = rules.Concat(dashboard.Queries).SelectMany(PromQl.MetricNames).Concat(dashboard.VariableMetrics).ToHashSet(StringComparer.Ordinal);
        Assert.Contains("heartbeat_host_up", used);
        Assert.Contains("heartbeat_host_last_seen_timestamp_seconds", used);
        Assert.Contains("heartbeat_host_interval_seconds", used);
        Assert.Empty(used.Where(name => !exported.Contains(name)).Order(StringComparer.Ordinal));
    }

    private static string Promtool() => Tool.Require("/usr/bin/promtool", "apt-get install prometheus (only promtool is used)");

    private static async Task Beat(InProcessServer server, string body) =>
        Assert.Equal(HttpStatusCode.OK, (await server.PostAsync(body)).StatusCode);
}
