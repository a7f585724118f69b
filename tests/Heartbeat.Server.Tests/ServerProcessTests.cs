using System.Net;
using System.Net.Sockets;
using System.Text;
using Heartbeat.Server.Hosting;
using Microsoft.Data.Sqlite;

namespace Heartbeat.Server.Tests;

/// <summary>heartbeat-server as its own process: signals, kill -9, restarts, and start-up errors.</summary>
public sealed class ServerProcessTests
{
    private static readonly TimeSpan ExitDeadline = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task KillNineRightAfterTheAcknowledgementsLosesNoHeartbeat()
    {
        const int beats = 400;
        using var directory = new TempDirectory();
        var log = directory.File("heartbeat.log");
        // 400 new hosts from one address: more than --max-new-hosts-per-minute allows, on purpose.
        using var server = ServerProcess.Start(["0", "--bind", "127.0.0.1", "--log-file", log, "--max-new-hosts-per-minute", "0"]);
        var port = await server.WaitForStartAsync(log);

        using (var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") })
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, beats), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (beat, ct) =>
            {
                using var response = await client.PostAsync("/", new StringContent($$"""{"host": "acked-{{beat}}"}"""), ct);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            });
        }

        server.KillHard();

        var hosts = HeartbeatLogFile.HeartbeatMessages(log).Select(m => m[(m.LastIndexOf(' ') + 1)..]).Order(StringComparer.Ordinal);
        Assert.Equal(Enumerable.Range(0, beats).Select(b => $"acked-{b}").Order(StringComparer.Ordinal), hosts);
    }

    [Fact]
    public async Task SigtermExitsZeroQuicklyAndARestartAppendsToTheSameLog()
    {
        using var directory = new TempDirectory();
        var log = directory.File("heartbeat.log");
        string[] arguments = ["0", "--bind", "127.0.0.1", "--log-file", log];

        foreach (var run in new[] { 0, 1 })
        {
            using var server = ServerProcess.Start(arguments);
            var port = await server.WaitForStartAsync(log, earlierStarts: run);
            using (var client = new HttpClient())
            {
                using var response = await client.PostAsync($"http://127.0.0.1:{port}/", new StringContent($$"""{"host": "run-{{run}}"}"""), TestContext.Current.CancellationToken);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            server.Terminate();
            Assert.Equal(0, await server.WaitForExitAsync(ExitDeadline));
        }

        var messages = HeartbeatLogFile.ReadMessages(log).Where(m => !m.StartsWith("New host", StringComparison.Ordinal)).ToArray();
        Assert.Equal(4, messages.Length);
        Assert.StartsWith("Server started, listening on port ", messages[0], StringComparison.Ordinal);
        Assert.EndsWith("Host: run-0", messages[1], StringComparison.Ordinal);
        Assert.StartsWith("Server started, listening on port ", messages[2], StringComparison.Ordinal);
        Assert.EndsWith("Host: run-1", messages[3], StringComparison.Ordinal);
    }

    [Fact]
    public async Task SigtermStopsAcceptingButFinishesTheRequestInFlight()
    {
        using var directory = new TempDirectory();
        var log = directory.File("heartbeat.log");
        using var server = ServerProcess.Start(["0", "--bind", "127.0.0.1", "--log-file", log]);
        var port = await server.WaitForStartAsync(log);
        var body = Encoding.ASCII.GetBytes("""{"host": "in-flight"}""");
        using var inFlight = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await inFlight.ConnectAsync(IPAddress.Loopback, port, TestContext.Current.CancellationToken);
        using var reader = new StreamReader(new NetworkStream(inFlight));

        // Kestrel answers "100 Continue" once the handler starts reading the body: from then on the request is in flight.
        await inFlight.SendAsync(Encoding.ASCII.GetBytes($"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: {body.Length}\r\n\r\n"), TestContext.Current.CancellationToken);
        Assert.Equal("HTTP/1.1 100 Continue", await reader.ReadLineAsync(TestContext.Current.CancellationToken));
        Assert.Equal(string.Empty, await reader.ReadLineAsync(TestContext.Current.CancellationToken));

        server.Terminate();
        await Eventually.TrueAsync(() => !Accepts(port), "the server to stop accepting connections");
        await inFlight.SendAsync(body, TestContext.Current.CancellationToken);

        Assert.Equal("HTTP/1.1 200 OK", await reader.ReadLineAsync(TestContext.Current.CancellationToken));
        Assert.Equal(0, await server.WaitForExitAsync(ExitDeadline));
        Assert.Equal(["Received heartbeat - From: 127.0.0.1, Reported IP: -, Host: in-flight"], HeartbeatLogFile.HeartbeatMessages(log));
    }

    [Fact]
    public async Task ARestartOnAStoreLargeEnoughToHoldCollectionsKeepsEveryHostAndTakesBeats()
    {
        const int hosts = 20;
        using var directory = new TempDirectory();
        var log = directory.File("heartbeat.log");
        var store = directory.File("heartbeat.db");
        string[] arguments = ["0", "--bind", "127.0.0.1", "--log-file", log, "--store", "sqlite", "--data", store];
        using (var first = ServerProcess.Start(arguments))
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{await first.WaitForStartAsync(log)}") };
            for (var host = 0; host < hosts; host++)
            {
                (await client.PostAsync("/", new StringContent($$"""{"host": "kept-{{host}}"}"""), TestContext.Current.CancellationToken)).Dispose();
            }

            first.Terminate();
            Assert.Equal(0, await first.WaitForExitAsync(ExitDeadline));
        }

        // Past the file size from which start-up holds collections while it restores: SQLite keeps a dropped table's
        // pages in the file, free.
        using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = store, Pooling = false }.ToString()))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"CREATE TABLE ballast (b BLOB); INSERT INTO ballast VALUES (zeroblob({ServerRunner.HoldCollectionsFrom + (1 << 20)})); DROP TABLE ballast; PRAGMA wal_checkpoint(TRUNCATE)";
            command.ExecuteNonQuery();
        }

        Assert.True(new FileInfo(store).Length > ServerRunner.HoldCollectionsFrom);
        using var second = ServerProcess.Start(arguments);
        using var restarted = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{await second.WaitForStartAsync(log, earlierStarts: 1)}") };
        using var beat = await restarted.PostAsync("/", new StringContent("""{"host": "new-after-restart"}"""), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, beat.StatusCode);
        var listed = await restarted.GetStringAsync("/api/v1/hosts?limit=1", TestContext.Current.CancellationToken);
        Assert.Contains($"\"total\":{hosts + 1}", listed, StringComparison.Ordinal);
        second.Terminate();
        Assert.Equal(0, await second.WaitForExitAsync(ExitDeadline));
        Assert.DoesNotContain("   at ", second.StandardError + second.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AfterTheServerStoodStillNobodyIsJudgedForItsAbsence()
    {
        using var directory = new TempDirectory();
        var log = directory.File("heartbeat.log");
        using var server = ServerProcess.Start(["0", "--bind", "127.0.0.1", "--log-file", log]);
        var port = await server.WaitForStartAsync(log);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        (await client.PostAsync("/", new StringContent("""{"host": "patient", "interval": 2}"""), TestContext.Current.CancellationToken)).Dispose();

        // The stimulus itself: the server does not run for 8 s, far past the host's deadline (2 s + 1 s grace).
        server.Pause();
        await Task.Delay(TimeSpan.FromSeconds(8), TestContext.Current.CancellationToken);
        server.Resume();

        // The first sweep after the pause notices it (and says so) before it judges anyone.
        await Eventually.TrueAsync(() => server.StandardOutput.Contains("stood still", StringComparison.Ordinal), "the server to notice its pause");
        var state = await client.GetStringAsync("/api/v1/hosts/patient", TestContext.Current.CancellationToken);
        Assert.DoesNotContain("\"state\":\"down\"", state, StringComparison.Ordinal);
        Assert.DoesNotContain(HeartbeatLogFile.ReadMessages(log), m => m.StartsWith("Host down", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EnvironmentVariablesConfigureTheServer()
    {
        using var directory = new TempDirectory();
        var log = directory.File("from-env.log");
        using var server = ServerProcess.Start([], new Dictionary<string, string>
        {
            ["HEARTBEAT_PORT"] = "0",
            ["HEARTBEAT_BIND"] = "127.0.0.1",
            ["HEARTBEAT_LOG_FILE"] = log,
            ["HEARTBEAT_MAX_BODY"] = "100",
        });
        var port = await server.WaitForStartAsync(log);

        using var client = new HttpClient();
        using var response = await client.PostAsync($"http://127.0.0.1:{port}/", new StringContent(new string(' ', 101)), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task TheServerWatchesNoDirectoryForChanges()
    {
        using var directory = new TempDirectory();
        var log = directory.File("heartbeat.log");
        using var server = ServerProcess.Start(["0", "--bind", "127.0.0.1", "--log-file", log]);
        await server.WaitForStartAsync(log);

        // Under systemd the working directory is "/": watching it for an appsettings.json meant a watch on every
        // directory of the machine, and a wake-up at every write anywhere.
        var watchers = Directory.GetFiles($"/proc/{server.Id}/fd")
            .Select(fd => new FileInfo(fd).LinkTarget)
            .Where(target => target is not null && target.Contains("inotify", StringComparison.Ordinal));
        Assert.Empty(watchers);
    }

    [Fact]
    public async Task PortAlreadyInUseExitsWithOneClearLine()
    {
        using var directory = new TempDirectory();
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        var port = ((IPEndPoint)occupant.LocalEndpoint).Port;

        using var server = ServerProcess.Start([port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--log-file", directory.File("x.log")]);

        Assert.Equal(1, await server.WaitForExitAsync(ExitDeadline));
        Assert.Equal($"heartbeat-server: port {port} is already in use by another program (see: lsof -i :{port}).", server.StandardError.Trim());
        Assert.Equal(string.Empty, server.StandardOutput);
    }

    [Fact]
    public async Task UnwritableLogPathExitsWithOneClearLine()
    {
        using var directory = new TempDirectory();
        var log = directory.File("missing-directory/heartbeat.log");

        using var server = ServerProcess.Start(["0", "--bind", "127.0.0.1", "--log-file", log]);

        Assert.Equal(1, await server.WaitForExitAsync(ExitDeadline));
        var error = Assert.Single(server.StandardError.Trim().Split('\n'));
        Assert.StartsWith($"heartbeat-server: cannot open the heartbeat log '{log}'", error, StringComparison.Ordinal);
        Assert.Equal(string.Empty, server.StandardOutput);
    }

    [Theory]
    [InlineData("--max-body", "lots", "--max-body: 'lots' is not a body size")]
    [InlineData("--log-keep", "-1", "--log-keep")]
    [InlineData("--bind", "not-an-address", "--bind: 'not-an-address' is not an IP address")]
    [InlineData("--no-such-option", "x", "--no-such-option")]
    [InlineData("--webhook", "ftp://example.org/hook", "--webhook: 'ftp://example.org/…' is not an http(s) URL")]
    [InlineData("--webhook", "http://127.0.0.1:9/hook#sometimes", "--webhook: '#sometimes' names no event")]
    [InlineData("--store", "floppy", "--store: 'floppy' is not a store")]
    [InlineData("--store", "postgres", "--store postgres needs a connection string")]
    [InlineData("--default-interval", "0s", "--default-interval")]
    public async Task BadOptionExitsTwoWithAClearMessageAndNoStackTrace(string option, string value, string expected)
    {
        using var server = ServerProcess.Start([option, value]);

        Assert.Equal(2, await server.WaitForExitAsync(ExitDeadline));
        Assert.Contains(expected, server.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", server.StandardError, StringComparison.Ordinal);
    }

    private static bool Accepts(int port)
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            probe.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
