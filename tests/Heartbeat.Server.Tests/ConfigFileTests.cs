using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;

namespace Heartbeat.Server.Tests;

/// <summary>
/// The YAML config file (--config, HEARTBEAT_CONFIG), check-config, and SIGHUP reloading it, against heartbeat-server
/// as its own process.
/// </summary>
public sealed class ConfigFileTests
{
    private static readonly TimeSpan ExitDeadline = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task TheServerRunsOnWhatItsConfigFileSays()
    {
        using var directory = new TempDirectory();
        var log = directory.File("from-file.log");
        var config = await WriteAsync(directory, $"""
            # heartbeat-server's settings
            bind: 127.0.0.1
            port: 0
            log-file: {log}
            max-body: 1 KiB
            """);
        using var server = ServerProcess.Start(["--config", config]);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{await server.WaitForStartAsync(log)}") };

        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/", Json("""{"ip": "192.168.1.100"}"""), TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge,
            (await client.PostAsync("/", Json($$"""{"ip": "192.168.1.100", "note": "{{new string('x', 2000)}}"}"""), TestContext.Current.CancellationToken)).StatusCode);
        await Eventually.TrueAsync(() => HeartbeatLogFile.ReadLines(log).Any(l => l.EndsWith("Reported IP: 192.168.1.100", StringComparison.Ordinal)), "the beat in the file's log");
    }

    [Fact]
    public async Task TheCommandLineWinsOverTheEnvironmentWhichWinsOverTheFileWhichWinsOverTheDefault()
    {
        using var directory = new TempDirectory();
        var config = await WriteAsync(directory, """
            port: 7001
            log-file: /tmp/from-file.log
            max-body: 2 KiB
            webhook:
              - https://hooks.example.org/a#down
              - https://hooks.example.org/b
            admin-token: from-the-file
            """);

        var (exit, output, _) = await RunAsync(
            ["check-config", "--config", config, "--log-file", "/tmp/from-command-line.log"],
            new() { ["HEARTBEAT_PORT"] = "7002", ["HEARTBEAT_MAX_BODY"] = "" });

        Assert.Equal(0, exit);
        var lines = output.Split('\n');
        Assert.Contains("log-file: /tmp/from-command-line.log   # from command line", lines);
        Assert.Contains("port: 7002   # from HEARTBEAT_PORT", lines);
        Assert.Contains($"max-body: 2 KiB   # from {config} (max-body)", lines); // an empty variable is no value
        Assert.Contains($"webhook:   # from {config} (webhook)", lines);
        Assert.Contains("  - https://hooks.example.org/a#down", lines);
        Assert.Contains("# default-interval: 60s   # default", lines);
        Assert.Contains($"admin-token: \"(hidden)\"   # from {config} (admin-token)", lines);
        Assert.DoesNotContain("from-the-file", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HeartbeatConfigNamesTheFileAndCheckConfigPrintsYamlTheServerReadsBack()
    {
        using var directory = new TempDirectory();
        var config = await WriteAsync(directory, """
            store: memory
            group: [office=192.168.1.0/24, lab=10.0.0.0/8]
            allowed-host: "*.ops.example.org"
            public-badges: yes
            """);

        var (exit, output, _) = await RunAsync(["check-config"], new() { ["HEARTBEAT_CONFIG"] = config });
        Assert.Equal(0, exit);
        Assert.Contains($"(config file: {config})", output, StringComparison.Ordinal);
        Assert.Contains("  - lab=10.0.0.0/8", output.Split('\n'));

        // What it prints is a config file of its own, with the same settings.
        var printed = directory.File("printed.yaml");
        await File.WriteAllTextAsync(printed, output, TestContext.Current.CancellationToken);
        var (again, reprinted, _) = await RunAsync(["check-config", "--config", printed]);
        Assert.Equal(0, again);
        Assert.Equal(Settings(output), Settings(reprinted));

        static string[] Settings(string printed) => [.. printed.Split('\n').Where(l => l.Length > 0 && l[0] != '#').Select(l => l.Split("   # from")[0])];
    }

    [Fact]
    public async Task TheReadmesConfigFileIsValid()
    {
        var readme = await File.ReadAllTextAsync(Repository.File("README.md"), TestContext.Current.CancellationToken);
        var section = readme[readme.IndexOf("## Config file", StringComparison.Ordinal)..];
        var start = section.IndexOf("```yaml\n", StringComparison.Ordinal) + "```yaml\n".Length;
        using var directory = new TempDirectory();
        var config = await WriteAsync(directory, section[start..section.IndexOf("```", start, StringComparison.Ordinal)]);

        var (exit, output, error) = await RunAsync(["check-config", "--config", config]);

        Assert.True(exit == 0, error);
        Assert.Contains("  - ntfy:https://ntfy.sh/my-servers#down,recovered", output.Split('\n'));
        Assert.Contains($"public-badges: true   # from {config} (public-badges)", output.Split('\n'));
    }

    [Theory]
    [InlineData("log-fil: /tmp/x.log\n", "unknown key 'log-fil'")]
    [InlineData("port: 99999\n", "(port): '99999' is not a port number")]
    [InlineData("port: [\n", "not valid YAML at line 2")]
    [InlineData("store:\n  path: /tmp/x.db\n", "'store' takes a value or a list of values, not a mapping")]
    [InlineData("tls-cert: /tmp/cert.pem\n", "--tls-cert and --tls-key go together")]
    public async Task AConfigFileThatCannotBeUsedStopsTheStartWithOneClearLine(string yaml, string reason)
    {
        using var directory = new TempDirectory();
        var config = await WriteAsync(directory, yaml);

        string[][] commands = [["--config", config, "--log-file", directory.File("x.log")], ["check-config", "--config", config]];
        foreach (var command in commands)
        {
            var (exit, _, error) = await RunAsync(command);
            Assert.Equal(2, exit);
            Assert.Contains(reason, error, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        }

        Assert.False(File.Exists(directory.File("x.log")));
    }

    [Fact]
    public async Task AMissingConfigFileIsNamed()
    {
        var (exit, _, error) = await RunAsync(["--config", "/nonexistent/heartbeat.yaml"]);

        Assert.Equal(2, exit);
        Assert.Contains("config file '/nonexistent/heartbeat.yaml': no such file", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SighupAppliesNewTokensAndWebhooksAndSaysWhatWaitsForARestart()
    {
        var received = new ConcurrentQueue<string>();
        await using var receiver = await LoopbackHttpServer.StartAsync(async context =>
        {
            received.Enqueue(await new StreamReader(context.Request.Body).ReadToEndAsync());
            context.Response.StatusCode = (int)HttpStatusCode.NoContent;
        });
        using var directory = new TempDirectory();
        var log = directory.File("heartbeat.log");
        var settings = $"bind: 127.0.0.1\nport: 0\nlog-file: {log}\n";
        var config = await WriteAsync(directory, settings + "admin-token: first-token\n");
        using var server = ServerProcess.Start(["--config", config]);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{await server.WaitForStartAsync(log)}") };
        Assert.Equal(HttpStatusCode.Conflict, await TestNotificationAsync(client, "first-token")); // no targets yet

        await File.WriteAllTextAsync(config, settings + $"admin-token: second-token\nwebhook: [{receiver.Url}hook]\nmax-hosts: 5\n", TestContext.Current.CancellationToken);
        server.Hangup();
        await Eventually.TrueAsync(() => server.StandardOutput.Contains("Configuration reloaded", StringComparison.Ordinal), "the reload's line");

        Assert.Equal(HttpStatusCode.Forbidden, await TestNotificationAsync(client, "first-token"));
        Assert.Equal(HttpStatusCode.Accepted, await TestNotificationAsync(client, "second-token"));
        await Eventually.TrueAsync(() => !received.IsEmpty, "the test notification at the new webhook");
        Assert.Contains("webhook: 1 given, was 0", server.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("admin-token changed", server.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("restart the server for: max-hosts", server.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("second-token", server.StandardOutput + server.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain(receiver.Url.ToString(), server.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AConfigFileBrokenWhileRunningLeavesTheRunningConfigurationAsItWas()
    {
        using var directory = new TempDirectory();
        var log = directory.File("heartbeat.log");
        var config = await WriteAsync(directory, $"bind: 127.0.0.1\nport: 0\nlog-file: {log}\nadmin-token: kept-token\n");
        using var server = ServerProcess.Start(["--config", config]);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{await server.WaitForStartAsync(log)}") };

        await File.WriteAllTextAsync(config, "admin-token: other\nadmin-tokn: typo\n", TestContext.Current.CancellationToken);
        server.Hangup();
        await Eventually.TrueAsync(() => server.StandardOutput.Contains("Configuration not reloaded", StringComparison.Ordinal), "the refusal's line");

        Assert.Contains("unknown key 'admin-tokn'", server.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, await TestNotificationAsync(client, "kept-token"));
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/", Json("""{"host": "web1"}"""), TestContext.Current.CancellationToken)).StatusCode);
        Assert.False(server.HasExited);
    }

    private static async Task<HttpStatusCode> TestNotificationAsync(HttpClient client, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/notifiers/test");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return (await client.SendAsync(request, TestContext.Current.CancellationToken)).StatusCode;
    }

    private static StringContent Json(string body) => new(body, System.Text.Encoding.UTF8, "application/json");

    private static async Task<string> WriteAsync(TempDirectory directory, string yaml)
    {
        var path = directory.File("heartbeat.yaml");
        await File.WriteAllTextAsync(path, yaml, TestContext.Current.CancellationToken);
        return path;
    }

    private static async Task<(int Exit, string Output, string Error)> RunAsync(string[] arguments, Dictionary<string, string>? environment = null)
    {
        using var process = ServerProcess.Start(arguments, environment);
        var exit = await process.WaitForExitAsync(ExitDeadline);
        return (exit, process.StandardOutput, process.StandardError);
    }
}
