using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Heartbeat.Deploy.Tests;

/// <summary>
/// The binary users run (NativeAOT where this machine builds it), as a real process: what the JIT-built test server
/// cannot show (trimming, source-generated JSON, the bundled SQLite library, reflection-free OpenAPI) is covered here
/// once, the way a user meets it: beats, ping URLs, the page, the API, metrics, a webhook, a restart.
/// </summary>
public sealed class ShippedServerTests(PublishedBuild build) : IAsyncDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly HttpClient _http = new();
    private ChildProcess? _server;

    [Fact]
    public void TheShippedServerIsNativeAotWhereThisMachineCanBuildIt()
    {
        Assert.SkipUnless(File.Exists("/usr/bin/clang"), "NativeAOT needs clang (test.sh installs it as root); this build is a JIT single file");
        Assert.True(build.IsNativeAot, $"deploy/publish.sh made no NativeAOT server in {build.Directory}");
    }

    [Fact]
    public async Task ABeatIsAcknowledgedLoggedListedAndKeptInSqliteAcrossARestart()
    {
        var port = await StartAsync();

        using var beat = await PostAsync(port, """{"ip": "192.168.1.100", "host": "web1"}""");
        Assert.Equal(HttpStatusCode.OK, beat.StatusCode);
        using (var ack = JsonDocument.Parse(await beat.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)))
        {
            Assert.Equal("127.0.0.1", ack.RootElement.GetProperty("from").GetString());
        }

        Assert.Contains("Received heartbeat - From: 127.0.0.1, Reported IP: 192.168.1.100, Host: web1", HeartbeatLogFile.HeartbeatMessages(LogPath));
        var host = await GetJsonAsync(port, "/api/v1/hosts/web1");
        Assert.Equal(("up", "192.168.1.100"), (host.GetProperty("state").GetString(), host.GetProperty("ip").GetString()));

        var restarted = await RestartAsync();
        var restored = await GetJsonAsync(restarted, "/api/v1/hosts/web1");
        Assert.Equal(("192.168.1.100", 1), (restored.GetProperty("ip").GetString(), restored.GetProperty("beats").GetInt32()));
    }

    [Fact]
    public async Task PingUrlsTheStatusPageMetricsAndTheApiDocumentAnswer()
    {
        var port = await StartAsync();

        Assert.Equal("OK", await _http.GetStringAsync(Url(port, "/ping/nightly-backup?interval=86400"), TestContext.Current.CancellationToken));
        Assert.Equal("OK", await _http.GetStringAsync(Url(port, "/ping/nightly-backup/1"), TestContext.Current.CancellationToken));
        Assert.Equal("failing", (await GetJsonAsync(port, "/api/v1/hosts/nightly-backup")).GetProperty("state").GetString());

        using var page = new HttpRequestMessage(HttpMethod.Get, Url(port, "/"));
        page.Headers.Accept.ParseAdd("text/html");
        using var html = await _http.SendAsync(page, TestContext.Current.CancellationToken);
        Assert.Equal("text/html", html.Content.Headers.ContentType?.MediaType);
        Assert.Contains("nightly-backup", await html.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);

        var metrics = await _http.GetStringAsync(Url(port, "/metrics"), TestContext.Current.CancellationToken);
        Assert.Contains("heartbeat_received_total 2", metrics, StringComparison.Ordinal);
        Assert.Contains("heartbeat_host_state{host=\"nightly-backup\",group=\"\",state=\"failing\"} 1", metrics, StringComparison.Ordinal);

        var document = await GetJsonAsync(port, "/openapi/v1.json");
        Assert.True(document.GetProperty("paths").TryGetProperty("/api/v1/hosts/{id}", out _), "the API document lists GET /api/v1/hosts/{id}");

        using var bad = await PostAsync(port, """{"ip": "not an address"}""");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task ANewHostsAlertReachesAWebhookReceiver()
    {
        var received = new ConcurrentQueue<string>();
        await using var receiver = await LoopbackHttpServer.StartAsync(async context =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            received.Enqueue(await reader.ReadToEndAsync(context.RequestAborted));
            context.Response.StatusCode = StatusCodes.Status204NoContent;
        });
        var port = await StartAsync("--webhook", $"{receiver.Url}#new");

        using var beat = await PostAsync(port, """{"host": "nas"}""");

        var alert = await Eventually.ValueAsync(() => received.FirstOrDefault(), "the new-host alert at the receiver");
        using var json = JsonDocument.Parse(alert);
        Assert.Equal(("new", "nas"), (json.RootElement.GetProperty("event").GetString(), json.RootElement.GetProperty("host").GetString()));
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is { HasExited: false })
        {
            _server.Terminate();
            await _server.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }

        _server?.Dispose();
        _http.Dispose();
        _directory.Dispose();
    }

    private string LogPath => _directory.File("heartbeat.log");

    private async Task<int> StartAsync(params string[] options)
    {
        var earlierStarts = _server is null ? 0 : 1;
        _server = ChildProcess.Start(
            build.Server,
            ["0", "--bind", "127.0.0.1", "--log-file", LogPath, "--data", _directory.File("heartbeat.db"), .. options],
            new Dictionary<string, string?> { ["HOME"] = _directory.Path });
        return await _server.WaitForStartAsync(LogPath, earlierStarts);
    }

    // Stops the server as systemd does and starts it again on the same log and store; returns its new port.
    private async Task<int> RestartAsync()
    {
        using (var stopped = _server!)
        {
            stopped.Terminate();
            Assert.Equal(0, await stopped.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        }

        return await StartAsync();
    }

    private static Uri Url(int port, string path) => new($"http://127.0.0.1:{port}{path}");

    private async Task<HttpResponseMessage> PostAsync(int port, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        return await _http.PostAsync(Url(port, "/"), content, TestContext.Current.CancellationToken);
    }

    private async Task<JsonElement> GetJsonAsync(int port, string path)
    {
        using var document = JsonDocument.Parse(await _http.GetStringAsync(Url(port, path), TestContext.Current.CancellationToken));
        return document.RootElement.Clone();
    }
}
