using System.Net.Http.Headers;
using System.Text;
using Heartbeat.Server.Diagnostics;
using Heartbeat.Server.Hosting;
using Heartbeat.Server.Logging;
using Heartbeat.Server.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Heartbeat.Server.Tests.Infrastructure;

/// <summary>
/// The real server (Kestrel, the real log writer) in the test process, on 127.0.0.1 and a port of its
/// own, writing to a log file of its own.
/// </summary>
internal sealed class InProcessServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TempDirectory? _ownDirectory;

    private InProcessServer(WebApplication app, TempDirectory? ownDirectory, ServerOptions options, int port)
    {
        _app = app;
        _ownDirectory = ownDirectory;
        Options = options;
        Port = port;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
    }

    /// <summary>For tests that send far more from one address than any agent would: a flood, on purpose.</summary>
    public static Func<ServerOptions, ServerOptions> WithoutRateLimits { get; } =
        o => o with { Security = o.Security with { RequestsPerSecondPerAddress = 0, BeatsPerSecondPerHost = 0 }, Hosts = o.Hosts with { MaxNewHostsPerMinute = 0 } };

    public ServerOptions Options { get; }

    /// <summary>The server's metrics, read in-process (for when /metrics itself is out of reach, as behind an allow-list).</summary>
    public ServerMetrics Metrics => _app.Services.GetRequiredService<ServerMetrics>();

    public int Port { get; }

    /// <summary>The server's services, for tests that look at how it is put together (its endpoints, say).</summary>
    public IServiceProvider Services => _app.Services;

    public HttpClient Client { get; }

    public string LogPath => Options.Log.Path;

    /// <param name="configure">Changes to the test defaults.</param>
    /// <param name="time">The clock the server's own logic runs on (Kestrel keeps the real one).</param>
    /// <param name="directory">Where log and database live; a test passes one to restart a server on the same files.</param>
    public static async Task<InProcessServer> StartAsync(
        Func<ServerOptions, ServerOptions>? configure = null, TimeProvider? time = null, TempDirectory? directory = null)
    {
        var ownDirectory = directory is null ? new TempDirectory() : null;
        directory ??= ownDirectory!;
        var options = new ServerOptions
        {
            Port = 0,
            Bind = ["127.0.0.1"],
            Log = new HeartbeatLogOptions { Path = directory.File("heartbeat_server.log") },
            Store = new StoreOptions { Path = directory.File("heartbeat.db") },
        };
        options = configure?.Invoke(options) ?? options;

        var app = Program.BuildApp(options, time ?? TimeProvider.System);
        var port = await ServerRunner.StartAsync(app, TestContext.Current.CancellationToken);
        return new InProcessServer(app, ownDirectory, options, port);
    }

    public Task<HttpResponseMessage> PostAsync(string body, string? contentType = "application/json")
    {
        var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = contentType is null ? null : MediaTypeHeaderValue.Parse(contentType);
        return Client.PostAsync("/", content, TestContext.Current.CancellationToken);
    }

    public string[] HeartbeatMessages() => HeartbeatLogFile.HeartbeatMessages(LogPath);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        _ownDirectory?.Dispose();
    }
}
