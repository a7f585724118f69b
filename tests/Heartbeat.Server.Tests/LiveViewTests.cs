using System.Net;
using System.Text.Json;
using Heartbeat.Server.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Heartbeat.Server.Tests;

/// <summary>What people and scripts watch: the event stream, the status page, its JSON, and down detection at scale.</summary>
public sealed class LiveViewTests
{
    [Fact]
    public async Task EventStreamDeliversEventsAsTheyHappen()
    {
        await using var server = await InProcessServer.StartAsync();
        using var stream = await EventStream.OpenAsync(server, "/api/v1/events");

        await server.BeatAsync("""{"host": "web1", "ip": "10.0.0.1"}""");
        await server.BeatAsync("""{"host": "web1", "ip": "10.0.0.2"}""");

        var first = await stream.NextAsync();
        var second = await stream.NextAsync();
        Assert.Equal(("new", "web1"), (first.Kind, first.Data.GetProperty("host").GetString()));
        Assert.Equal("ip-changed", second.Kind);
        Assert.Equal("10.0.0.1", second.Data.GetProperty("previousIp").GetString());
        Assert.Equal("Host IP changed - web1 (10.0.0.1 -> 10.0.0.2)", second.Data.GetProperty("summary").GetString());
        Assert.Equal(second.Data.GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture), second.Id);
    }

    [Fact]
    public async Task EventStreamReplaysWhatCameAfterTheGivenEventThenGoesLive()
    {
        await using var server = await InProcessServer.StartAsync();
        await server.BeatAsync("""{"host": "a"}""");
        await server.BeatAsync("""{"host": "b"}""");
        await server.BeatAsync("""{"host": "c"}""");

        using var stream = await EventStream.OpenAsync(server, "/api/v1/events?since=1");
        await server.BeatAsync("""{"host": "d"}""");

        string?[] hosts = [
            (await stream.NextAsync()).Data.GetProperty("host").GetString(),
            (await stream.NextAsync()).Data.GetProperty("host").GetString(),
            (await stream.NextAsync()).Data.GetProperty("host").GetString(),
        ];
        Assert.Equal(["b", "c", "d"], hosts);
    }

    [Fact]
    public async Task StatusPageListsHostsTroubleFirstAndShowsWhatClientsSentAsText()
    {
        await using var server = await InProcessServer.StartAsync();
        await server.BeatAsync("""{"host": "healthy", "ip": "10.0.0.1"}""");
        await server.BeatAsync("""{"host": "broken", "status": "fail", "msg": "<script>alert('owned')</script>"}""");

        using var response = await server.Client.GetAsync("/", TestContext.Current.CancellationToken);
        var html = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(html.IndexOf("data-host=\"broken\"", StringComparison.Ordinal) < html.IndexOf("data-host=\"healthy\"", StringComparison.Ordinal));
        Assert.Contains("<td class=\"state state-failing\" data-label=\"State\">failing</td>", html, StringComparison.Ordinal);
        Assert.Contains("<div class=\"reason\">&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt;</div>", html, StringComparison.Ordinal);
        Assert.Contains("Host failing - broken (&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt;)", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>alert", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatusPageAnswersJsonToScriptsThatAskForIt()
    {
        await using var server = await InProcessServer.StartAsync();
        await server.BeatAsync("""{"host": "web1", "ip": "10.0.0.1"}""");

        var status = await server.GetStatusJsonAsync();

        Assert.Equal(1, status.GetProperty("server").GetProperty("heartbeatsReceived").GetInt64());
        Assert.Equal("web1", status.GetProperty("hosts").GetProperty("hosts")[0].GetProperty("id").GetString());
        Assert.Equal("new", status.GetProperty("recentEvents")[0].GetProperty("kind").GetString());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task StartedAndUptimeCountFromTheServersStartNotFromTheFirstPageView(bool asJson)
    {
        var start = new DateTimeOffset(2026, 2, 8, 11, 30, 0, TimeSpan.Zero);
        var time = new FakeTimeProvider(start);
        await using var server = await InProcessServer.StartAsync(time: time);

        time.Advance(TimeSpan.FromHours(1));

        if (asJson)
        {
            var view = (await server.GetStatusJsonAsync()).GetProperty("server");
            Assert.Equal((start, 3600.0), (view.GetProperty("startedAt").GetDateTimeOffset(), view.GetProperty("uptimeSeconds").GetDouble()));
        }
        else
        {
            var html = await server.Client.GetStringAsync("/", TestContext.Current.CancellationToken);
            Assert.Contains("<dt>Started</dt><dd><time datetime=\"2026-02-08T11:30:00.0000000Z\">2026-02-08 11:30:00 +00:00</time></dd>", html, StringComparison.Ordinal);
            Assert.Contains("<dt>Uptime</dt><dd id=\"uptime\">1h 0m</dd>", html, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task StatusPageAssetsAreServed()
    {
        await using var server = await InProcessServer.StartAsync();

        using var script = await server.Client.GetAsync("/assets/status.js", TestContext.Current.CancellationToken);
        using var style = await server.Client.GetAsync("/assets/status.css", TestContext.Current.CancellationToken);
        using var missing = await server.Client.GetAsync("/assets/nothing.js", TestContext.Current.CancellationToken);

        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Contains("EventSource", await script.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Equal("text/css", style.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task TenThousandHostsAreAllMarkedDownWithinASecondOfTheirDeadlines()
    {
        const int hosts = 10_000;
        var expected = TimeSpan.FromSeconds(2); // down after 2 s + 1 s grace
        await using var server = await InProcessServer.StartAsync(InProcessServer.WithoutRateLimits);

        await Parallel.ForEachAsync(Enumerable.Range(0, hosts), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
        {
            using var response = await server.Client.PostAsync("/", new StringContent($$"""{"host": "node-{{i}}", "interval": 2}"""), ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        });
        var lastBeat = DateTimeOffset.UtcNow;
        Assert.Equal(hosts, (await server.GetJsonAsync("/api/v1/hosts?limit=1")).GetProperty("total").GetInt32());

        // The last deadline is lastBeat + 2 s + 1 s grace; everyone must be down within a second of it.
        var allDownBy = lastBeat + expected + TimeSpan.FromSeconds(1) + TimeSpan.FromSeconds(1);
        await Eventually.TrueAsync(
            async () => (await server.GetJsonAsync("/api/v1/hosts?state=down&limit=1")).GetProperty("total").GetInt32() == hosts,
            "every host to be down",
            allDownBy - DateTimeOffset.UtcNow);

        await HeartbeatLogFile.WaitForAsync(
            server.LogPath, m => m.Count(line => line.StartsWith("Host down - node-", StringComparison.Ordinal)) == hosts, "a down line for every host");
    }
}

/// <summary>A Server-Sent Events client, reading one event at a time with a deadline.</summary>
internal sealed class EventStream : IDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private EventStream(HttpResponseMessage response, StreamReader reader)
    {
        _response = response;
        _reader = reader;
    }

    public static async Task<EventStream> OpenAsync(InProcessServer server, string path)
    {
        var response = await server.Client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new EventStream(response, new StreamReader(await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken)));
    }

    public async Task<(string Kind, string? Id, JsonElement Data)> NextAsync()
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(10));
        string? kind = null, id = null, data = null;
        while (await _reader.ReadLineAsync(deadline.Token) is { } line)
        {
            if (line.Length == 0 && data is not null)
            {
                return (kind ?? "message", id, JsonDocument.Parse(data).RootElement.Clone());
            }

            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                kind = line[7..];
            }
            else if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                id = line[4..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data = line[6..];
            }
        }

        throw new InvalidOperationException("The event stream ended.");
    }

    public void Dispose()
    {
        _reader.Dispose();
        _response.Dispose();
    }
}
