using System.CommandLine;
using Heartbeat.Server.Hosting;
using Heartbeat.Server.Logging;
using Heartbeat.Server.Notify;
using Heartbeat.Server.Settings;

namespace Heartbeat.Server.Tests;

public sealed class CommandLineTests
{
    [Fact]
    public async Task NoArgumentsMeansTheSeedsDefaults()
    {
        var options = await ParseAsync();

        Assert.Equal(7777, options.Port);
        Assert.Empty(options.Bind);
        Assert.Equal("/tmp/heartbeat_server.log", options.Log.Path);
        Assert.Equal(64 * 1024, options.Ingest.MaxBodyBytes);
        Assert.Equal(100L * 1024 * 1024, options.Log.MaxSizeBytes);
        Assert.Equal(5, options.Log.Keep);
        Assert.False(options.Log.Fsync);
    }

    [Fact]
    public async Task APortArgumentAsInTheSeed()
    {
        Assert.Equal(8080, (await ParseAsync("8080")).Port);
    }

    [Fact]
    public async Task EveryOptionIsRead()
    {
        var options = await ParseAsync(
            "9000", "--bind", "127.0.0.1", "--bind", "::1", "--log-file", "-", "--log-max-size", "10MiB", "--log-keep", "0", "--fsync", "--max-body", "4k");

        Assert.Equal(
            new ServerOptions
            {
                Port = 9000,
                Bind = options.Bind,
                Ingest = new() { MaxBodyBytes = 4096 },
                Log = new HeartbeatLogOptions { Path = "-", MaxSizeBytes = 10L * 1024 * 1024, Keep = 0, Fsync = true },
            },
            options);
        Assert.Equal(["127.0.0.1", "::1"], options.Bind);
        Assert.True(options.Log.IsStandardOutput);
    }

    [Theory]
    [InlineData("65536", 65536)]
    [InlineData("64k", 65536)]
    [InlineData("64KiB", 65536)]
    [InlineData("100 MiB", 104857600)]
    [InlineData("1G", 1073741824)]
    [InlineData("0", 0)]
    public void SizesAreReadAsSysadminsWriteThem(string text, long bytes)
    {
        Assert.True(ByteSize.TryParse(text, out var parsed));
        Assert.Equal(bytes, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-1")]
    [InlineData("1.5M")]
    [InlineData("ten")]
    [InlineData("99999999999G")]
    public void NonsenseSizesAreRefused(string text) => Assert.False(ByteSize.TryParse(text, out _));

    [Theory]
    [InlineData(104857600, "100 MiB")]
    [InlineData(65536, "64 KiB")]
    [InlineData(1L << 30, "1 GiB")]
    [InlineData(1500, "1500 B")]
    [InlineData(0, "0 B")]
    public void SizesAreShownInTheLargestWholeUnitAndReadBack(long bytes, string text)
    {
        Assert.Equal(text, ByteSize.Format(bytes));
        Assert.True(ByteSize.TryParse(text, out var parsed));
        Assert.Equal(bytes, parsed);
    }

    [Fact]
    public async Task SitesOutageWindowAndClockThresholdAreRead()
    {
        var options = await ParseAsync("--group", "office=192.168.1.0/24", "--group", "lab=10.0.0.0/8,dmz=2001:db8::/48", "--outage-window", "5m", "--clock-skew-warning", "2m");

        Assert.Equal(["office", "lab", "dmz"], options.Hosts.SiteRules.Select(r => r.Name));
        Assert.Equal(System.Net.IPNetwork.Parse("2001:db8::/48"), options.Hosts.SiteRules[2].Network);
        Assert.Equal((TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(2)), (options.Hosts.OutageWindow, options.Hosts.ClockSkewWarning));
    }

    [Fact]
    public async Task WebhooksAndCommandsAreReadIntoTheirAddressFormatAndEvents()
    {
        var options = await ParseAsync(
            "--webhook", "ntfy:https://alerts.example.org/ops#down,recovered", "--webhook", "https://hooks.slack.com/services/T/B/x", "--notify-exec", "logger -t heartbeat #down");

        var (ntfy, slack) = (options.Notify.Webhooks[0], options.Notify.Webhooks[1]);
        Assert.Equal((WebhookFormat.Ntfy, new Uri("https://alerts.example.org/ops")), (ntfy.Format, ntfy.Url));
        Assert.Equal(["down", "recovered"], ntfy.Events.Order());
        Assert.Equal(WebhookFormat.Slack, slack.Format);
        Assert.Empty(slack.Events);
        var command = Assert.Single(options.Notify.Commands);
        Assert.Equal("logger -t heartbeat", command.Command);
        Assert.Equal(["down"], command.Events);
    }

    [Theory]
    [InlineData("--group", "office", "is not NAME=CIDR")]
    [InlineData("--group", "office=192.168.1.0/33", "is not an address range")]
    [InlineData("--outage-window", "0s", "is not a duration from 1s to 1d")]
    public void BadSiteSettingsAreRefusedWithTheReason(string option, string value, string reason)
    {
        var parsed = ServerCommand.Create((_, _) => Task.FromResult(0)).Parse([option, value]);

        Assert.Contains(parsed.Errors, e => e.Message.Contains(reason, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--default-interval", "60s")]
    [InlineData("--outage-window", "2m")]
    [InlineData("--log-max-size", "100 MiB")]
    [InlineData("--max-body", "64 KiB")]
    [InlineData("--store", "sqlite")]
    [InlineData("--log-keep", "5")]
    [InlineData("--max-hosts", "100000")]
    [InlineData("--max-new-hosts-per-minute", "100")]
    [InlineData("--max-body-memory", "256 MiB")]
    public async Task HelpShowsEachDefaultAsPeopleWriteIt(string option, string shown)
    {
        using var output = new StringWriter();
        var parsed = ServerCommand.Create((_, _) => Task.FromResult(0)).Parse(["--help"]);

        Assert.Equal(0, await parsed.InvokeAsync(new InvocationConfiguration { Output = output }, TestContext.Current.CancellationToken));
        var line = Assert.Single(output.ToString().Split('\n'), l => l.TrimStart().StartsWith(option + " ", StringComparison.Ordinal));
        Assert.EndsWith($"[default: {shown}]", line.TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThePublicUrlAndAllowedHostNamesAreRead()
    {
        var options = await ParseAsync("--public-url", "https://status.example.org/", "--allowed-host", "monitor.example.org", "--allowed-host", "*.ops.example.org,*");

        Assert.Equal(new Uri("https://status.example.org/"), options.Security.PublicUrl);
        Assert.Equal(["monitor.example.org", "*.ops.example.org", "*"], options.Security.AllowedHosts);
    }

    [Theory]
    [InlineData("--public-url", "status.example.org", "is not an http:// or https:// address")]
    [InlineData("--public-url", "ftp://status.example.org/", "is not an http:// or https:// address")]
    [InlineData("--allowed-host", "monitor.example.org:8080", "is not a host name")]
    [InlineData("--allowed-host", "http://monitor.example.org", "is not a host name")]
    public void BadNamesForThePageAreRefusedWithTheReason(string option, string value, string reason)
    {
        var parsed = ServerCommand.Create((_, _) => Task.FromResult(0)).Parse([option, value]);

        Assert.Contains(parsed.Errors, e => e.Message.Contains(reason, StringComparison.Ordinal));
    }

    private static async Task<ServerOptions> ParseAsync(params string[] args)
    {
        ServerOptions? captured = null;
        var parsed = ServerCommand.Create((settings, _) =>
        {
            captured = settings.Options;
            return Task.FromResult(0);
        }).Parse(args);

        Assert.Empty(parsed.Errors);
        Assert.Equal(0, await parsed.InvokeAsync(cancellationToken: TestContext.Current.CancellationToken));
        return captured!;
    }
}
