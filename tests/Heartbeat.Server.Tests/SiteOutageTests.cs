using System.Net;
using System.Text;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Notify;
using Heartbeat.Server.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Heartbeat.Server.Tests;

/// <summary>One router outage is one alert: hosts behind one address, in one group or one --group range fall silent together.</summary>
public sealed class SiteOutageTests
{
    private static readonly DateTimeOffset Start = new(2026, 2, 8, 11, 30, 0, TimeSpan.Zero);
    private const string Router = "203.0.113.7";

    [Fact]
    public async Task HostsBehindOneAddressGoingSilentTogetherSendOneSiteAlertEachWay()
    {
        var time = new FakeTimeProvider(Start);
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await StartBehindProxyAsync(receiver, time);
        foreach (var host in new[] { "cam", "nas", "pi" })
        {
            await BeatFromAsync(server, Router, host, interval: 60);
        }

        time.Advance(TimeSpan.FromSeconds(91)); // the router died: all three miss their beats
        await HeartbeatLogFile.WaitForMessageAsync(server.LogPath, "Site down - 203.0.113.7 (3 hosts silent: cam, nas, pi)");
        time.Advance(TimeSpan.FromSeconds(1));
        var down = await server.ReceivedAfterAsync(receiver, "Site down");

        Assert.Equal(["Site down - 203.0.113.7 (3 hosts silent: cam, nas, pi)"], down);
        Assert.Equal(3, HeartbeatLogFile.ReadMessages(server.LogPath).Count(m => m.StartsWith("Host down", StringComparison.Ordinal)));
        Assert.Equal("down", await server.StateOfAsync("cam"));

        // Two come back; the camera stays dark, so once the window has passed it gets its own alert.
        await BeatFromAsync(server, Router, "nas", interval: 60);
        await BeatFromAsync(server, Router, "pi", interval: 60);
        time.Advance(TimeSpan.FromSeconds(30));
        await HeartbeatLogFile.WaitForMessageAsync(server.LogPath, "Site recovered - 203.0.113.7 (2 of 3 hosts back after 31s)");
        time.Advance(TimeSpan.FromSeconds(1));
        var all = await server.ReceivedAfterAsync(receiver, "Site recovered");

        Assert.Equal(
            [
                "Host down - cam (last seen 2026-02-08 11:30:00, expected every 60s)",
                "Site down - 203.0.113.7 (3 hosts silent: cam, nas, pi)",
                "Site recovered - 203.0.113.7 (2 of 3 hosts back after 31s)",
            ],
            all);
    }

    [Fact]
    public async Task AHostGoingDownWhileItsNeighboursBeatGetsItsOwnAlertAtOnce()
    {
        var time = new FakeTimeProvider(Start);
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await StartBehindProxyAsync(receiver, time);
        await BeatFromAsync(server, Router, "cam", interval: 10);
        await BeatFromAsync(server, Router, "nas", interval: 10);

        time.Advance(TimeSpan.FromSeconds(9));
        await BeatFromAsync(server, Router, "nas", interval: 10);
        time.Advance(TimeSpan.FromSeconds(7));
        await HeartbeatLogFile.WaitForMessageAsync(server.LogPath, "Host down - cam (last seen 2026-02-08 11:30:00, expected every 10s)");
        await BeatFromAsync(server, Router, "nas", interval: 10); // the held alert is released: a neighbour got through
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(
            ["Host down - cam (last seen 2026-02-08 11:30:00, expected every 10s)"],
            await server.ReceivedAfterAsync(receiver, "Host down - cam"));
    }

    [Fact]
    public async Task AGroupRangeFormsASiteAndAHeldAlertGoesOutWhenTheWindowPasses()
    {
        var time = new FakeTimeProvider(Start);
        await using var receiver = await WebhookReceiver.StartAsync();
        Assert.True(SiteRule.TryParse("office=192.168.1.0/24", out var office, out _));
        await using var server = await InProcessServer.StartAsync(
            o => o with
            {
                Hosts = o.Hosts with { SiteRules = [office], OutageWindow = TimeSpan.FromSeconds(30) },
                Notify = o.Notify with { Webhooks = [WebhookSpec.Parse($"{receiver.Url}#down,site-down")] },
            },
            time);
        await server.BeatAsync("""{"host": "printer", "ip": "192.168.1.40", "interval": 10}""");
        await server.BeatAsync("""{"host": "backup", "ip": "192.168.1.41", "interval": 600}""");
        await server.BeatAsync("""{"host": "witness", "interval": 20}"""); // down in the sweep that ends the window
        Assert.Equal("office", (await server.GetHostAsync("printer")).GetProperty("site").GetString());

        time.Advance(TimeSpan.FromSeconds(16));
        await server.WaitForStateAsync("printer", "down");
        time.Advance(TimeSpan.FromSeconds(31)); // nobody else in the office is due yet: the window decides
        await HeartbeatLogFile.WaitForMessageAsync(server.LogPath, "Host down - witness (last seen 2026-02-08 11:30:00, expected every 20s)");
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(
            ["Host down - printer (last seen 2026-02-08 11:30:00, expected every 10s)", "Host down - witness (last seen 2026-02-08 11:30:00, expected every 20s)"],
            await server.ReceivedAfterAsync(receiver, "Host down - witness"));
    }

    [Fact]
    public async Task HostsNamingOneGroupFormASiteWhereverTheyBeatFrom()
    {
        var time = new FakeTimeProvider(Start);
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await InProcessServer.StartAsync(o => o with { Notify = o.Notify with { Webhooks = [WebhookSpec.Parse($"{receiver.Url}#down,recovered")] } }, time);
        await server.BeatAsync("""{"host": "node1", "interval": 10, "group": "rack-2"}""");
        await server.BeatAsync("""{"host": "node2", "interval": 10, "group": "rack-2"}""");
        await server.BeatAsync("""{"host": "laptop", "interval": 10}"""); // on loopback: in no site

        time.Advance(TimeSpan.FromSeconds(16));
        await HeartbeatLogFile.WaitForMessageAsync(server.LogPath, "Site down - rack-2 (2 hosts silent: node1, node2)");
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(
            ["Host down - laptop (last seen 2026-02-08 11:30:00, expected every 10s)", "Site down - rack-2 (2 hosts silent: node1, node2)"],
            await server.ReceivedAfterAsync(receiver, "Site down"));
    }

    private static Task<InProcessServer> StartBehindProxyAsync(WebhookReceiver receiver, TimeProvider time) => InProcessServer.StartAsync(
        o => o with
        {
            Hosts = o.Hosts with { OutageWindow = TimeSpan.FromSeconds(30) },
            Security = o.Security with { TrustProxy = [IPNetwork.Parse("127.0.0.1/32")] },
            Notify = o.Notify with { Webhooks = [WebhookSpec.Parse($"{receiver.Url}#down,recovered")] },
        },
        time);

    /// <summary>A beat relayed by a trusted proxy for a client at <paramref name="address"/>.</summary>
    private static async Task BeatFromAsync(InProcessServer server, string address, string host, int interval)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/")
        {
            Content = new StringContent($$"""{"host": "{{host}}", "interval": {{interval}}}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Forwarded-For", address);
        using var response = await server.Client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
