using System.Text.Json;
using Heartbeat.Server.Notify;
using Heartbeat.Server.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Heartbeat.Server.Tests;

/// <summary>Reboots, two machines under one name, and clocks that are off, told by the boot id and time a beat carries.</summary>
public sealed class IdentityTests
{
    private static readonly DateTimeOffset Start = new(2026, 2, 8, 11, 30, 0, TimeSpan.Zero);
    private const string FirstBoot = "3f1c2a9e-6b7d-4e21-9a0f-5c8d7e6b4a31";
    private const string SecondBoot = "a04b9c1d-2e3f-4a5b-8c7d-6e5f4a3b2c1d";

    [Fact]
    public async Task ANewBootIdIsARebootAndTheFirstOneIsNot()
    {
        await using var server = await InProcessServer.StartAsync();

        await server.BeatAsync($$"""{"host": "web1", "boot": "{{FirstBoot}}"}""");
        await server.BeatAsync($$"""{"host": "web1", "boot": "{{FirstBoot}}"}""");
        await server.BeatAsync($$"""{"host": "web1", "boot": "{{SecondBoot}}"}""");

        var log = HeartbeatLogFile.ReadMessages(server.LogPath);
        Assert.Equal(["Host rebooted - web1 (boot 3f1c2a9e -> a04b9c1d)"], log.Where(m => m.Contains("reboot", StringComparison.Ordinal)));
        Assert.Equal(SecondBoot, (await server.GetHostAsync("web1")).GetProperty("bootId").GetString());
    }

    [Fact]
    public async Task TwoBootsTakingTurnsAreTwoMachinesSharingANameSaidOnce()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var server = await InProcessServer.StartAsync(o => o with { Notify = o.Notify with { Webhooks = [WebhookSpec.Parse($"{receiver.Url}#duplicate-identity")] } });

        foreach (var boot in new[] { FirstBoot, SecondBoot, FirstBoot, SecondBoot, FirstBoot })
        {
            await server.BeatAsync($$"""{"host": "web1", "boot": "{{boot}}"}""");
        }

        var duplicate = "Duplicate identity - web1 (beats alternate between boots a04b9c1d and 3f1c2a9e: two machines use this name)";
        Assert.Equal([duplicate], await server.ReceivedAfterAsync(receiver, "Duplicate identity"));
        var log = HeartbeatLogFile.ReadMessages(server.LogPath);
        Assert.Single(log, m => m.StartsWith("Duplicate identity", StringComparison.Ordinal));
        Assert.Single(log, m => m.StartsWith("Host rebooted", StringComparison.Ordinal)); // the first switch looked like one
        Assert.Equal(JsonValueKind.String, (await server.GetHostAsync("web1")).GetProperty("duplicateIdentitySeenAt").ValueKind);
        Assert.Contains("<span class=\"note note-warn\">duplicate identity</span>", await server.Client.GetStringAsync("/", TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AClockOffByMoreThanTheThresholdIsWarnedOnceAndShown()
    {
        var time = new FakeTimeProvider(Start);
        await using var server = await InProcessServer.StartAsync(time: time);
        var now = Start.ToUnixTimeSeconds();

        await server.BeatAsync($$"""{"host": "pi", "ts": {{now - 125}}}""");
        await server.BeatAsync($$"""{"host": "pi", "ts": {{now - 124.5}}}""");
        var skewed = await server.GetHostAsync("pi");
        await server.BeatAsync($$"""{"host": "pi", "ts": {{now + 2}}}""");
        var fixedClock = await server.GetHostAsync("pi");

        Assert.Equal((-124.5, true), (skewed.GetProperty("clockSkewSeconds").GetDouble(), skewed.GetProperty("clockOff").GetBoolean()));
        Assert.Equal((2.0, false), (fixedClock.GetProperty("clockSkewSeconds").GetDouble(), fixedClock.GetProperty("clockOff").GetBoolean()));
        Assert.Equal(
            ["Clock skew - pi (its clock is 2m 5s behind the server's)"],
            HeartbeatLogFile.ReadMessages(server.LogPath).Where(m => m.StartsWith("Clock", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task BootIdClockAndBodiesSurviveARestart()
    {
        var time = new FakeTimeProvider(Start);
        using var directory = new TempDirectory();
        await using (var first = await InProcessServer.StartAsync(time: time, directory: directory))
        {
            await first.BeatAsync($$"""{"host": "web1", "boot": "{{FirstBoot}}", "ts": {{Start.ToUnixTimeSeconds() + 40}}, "group": "rack-2"}""");
            using var log = await first.Client.PostAsync("/ping/web1/log", new StringContent("kernel 6.12 installed"), TestContext.Current.CancellationToken);
        }

        await using var server = await InProcessServer.StartAsync(time: time, directory: directory);
        var host = await server.GetHostAsync("web1");
        Assert.Equal(FirstBoot, host.GetProperty("bootId").GetString());
        Assert.Equal((40.0, true), (host.GetProperty("clockSkewSeconds").GetDouble(), host.GetProperty("clockOff").GetBoolean()));
        Assert.Equal("rack-2", host.GetProperty("site").GetString());
        Assert.Equal("kernel 6.12 installed", host.GetProperty("lastBody").GetProperty("text").GetString());

        await server.BeatAsync($$"""{"host": "web1", "boot": "{{SecondBoot}}"}""");
        Assert.Contains("Host rebooted - web1 (boot 3f1c2a9e -> a04b9c1d)", HeartbeatLogFile.ReadMessages(server.LogPath));
    }

    [Theory]
    [InlineData("""{"boot": ""}""", "boot")]
    [InlineData("""{"boot": "has spaces"}""", "boot")]
    [InlineData("""{"boot": 42}""", "boot")]
    [InlineData("""{"ts": "yesterday"}""", "ts")]
    [InlineData("""{"ts": 100}""", "ts")]
    [InlineData("""{"maintenance": -5}""", "maintenance")]
    [InlineData("""{"maintenance": 2592001}""", "maintenance")]
    [InlineData("""{"group": "a/b"}""", "group")]
    public async Task BadNewFieldsAreRefusedByName(string body, string field)
    {
        await using var server = await InProcessServer.StartAsync();

        using var response = await server.PostAsync(body);

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;
        Assert.Equal(field, problem.GetProperty("field").GetString());
        Assert.DoesNotContain(HeartbeatLogFile.ReadMessages(server.LogPath), m => m.StartsWith("Received", StringComparison.Ordinal));
    }
}
