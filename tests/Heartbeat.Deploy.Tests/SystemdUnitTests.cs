using System.Net;
using System.Text;

namespace Heartbeat.Deploy.Tests;

/// <summary>
/// The shipped units, checked by Debian's systemd-analyze (security --offline and verify) and run as they say: the
/// published binaries under an unprivileged uid with the units' environment and directories, no HOME, no new privileges
/// and no capabilities. What needs a running systemd (the seccomp filter, the read-only file system, PrivateTmp) is
/// rated by systemd-analyze here, not enforced.
/// </summary>
public sealed class SystemdUnitTests(PublishedBuild build) : IDisposable
{
    private const double MostExposure = 3.0;
    private const string ServerProgram = "/opt/heartbeat/heartbeat-server";
    private const string AgentProgram = "/usr/local/bin/heartbeat";
    private readonly TempDirectory _directory = new();

    private static string ServerUnitText => Repository.Read("deploy", "systemd", "heartbeat-server.service");

    [Fact]
    public async Task TheServerUnitIsRatedAtMost3AndVerifiesWithoutAWord()
    {
        var copy = SystemdAnalyze.CopyWithProgram(ServerUnitText, "heartbeat-server.service", ServerProgram, build.Server, _directory.Path);

        var (exposure, report) = await SystemdAnalyze.SecurityAsync(copy);
        var (exitCode, said) = await SystemdAnalyze.VerifyAsync(copy);

        TestContext.Current.TestOutputHelper?.WriteLine($"heartbeat-server.service: exposure {exposure}");
        Assert.True(exposure <= MostExposure, report);
        Assert.Equal((0, string.Empty), (exitCode, said));
        var unit = UnitFile.Parse(ServerUnitText);
        Assert.Equal(("yes", "strict", string.Empty), (unit.Get("Service", "DynamicUser"), unit.Get("Service", "ProtectSystem"), unit.Get("Service", "CapabilityBoundingSet")));
        Assert.Equal(("heartbeat", "heartbeat"), (unit.Get("Service", "StateDirectory"), unit.Get("Service", "LogsDirectory")));
    }

    [Fact]
    public async Task TheAgentUnitThatInstallWritesIsTheShippedOneRatedAtMost3AndVerifiesWithoutAWord()
    {
        Sandbox.SkipUnlessRoot("the agent's system install");
        var stage = _directory.File("stage");
        using var install = ChildProcess.Start(build.Agent, ["install", "heartbeat.example.org:7777", "--root", stage]);
        Assert.Equal(0, await install.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var written = await File.ReadAllTextAsync(Path.Join(stage, "/etc/systemd/system/heartbeat-agent.service"), TestContext.Current.CancellationToken);
        var copy = SystemdAnalyze.CopyWithProgram(written, "heartbeat-agent.service", AgentProgram, Path.Join(stage, AgentProgram), _directory.Path);

        var (exposure, report) = await SystemdAnalyze.SecurityAsync(copy);
        var (exitCode, said) = await SystemdAnalyze.VerifyAsync(copy);

        TestContext.Current.TestOutputHelper?.WriteLine($"heartbeat-agent.service: exposure {exposure}");
        Assert.Equal(Repository.Read("deploy", "systemd", "heartbeat-agent.service"), written);
        Assert.True(exposure <= MostExposure, report);
        Assert.Equal((0, string.Empty), (exitCode, said));
    }

    [Fact]
    public async Task TheServerRunsAsAServiceUserWithTheUnitsEnvironmentAndDirectoriesAndKeepsItsStore()
    {
        Sandbox.SkipUnlessRoot("the server as its unit's dynamic user");
        var unit = UnitFile.Parse(ServerUnitText);
        Assert.Equal($"{ServerProgram} 7777", unit.Get("Service", "ExecStart"));

        // What systemd makes for StateDirectory=heartbeat and LogsDirectory=heartbeat, under a root of the test's own.
        var state = Sandbox.OwnedDirectory(_directory.File("var/lib/heartbeat"), Sandbox.DynamicUid);
        var logs = Sandbox.OwnedDirectory(_directory.File("var/log/heartbeat"), Sandbox.DynamicUid);
        Sandbox.Passable(_directory.Path);
        Sandbox.Passable(build.Directory);
        var environment = unit.Environment().ToDictionary(
            e => e.Key, e => e.Value.Replace("/var/lib/heartbeat", state, StringComparison.Ordinal).Replace("/var/log/heartbeat", logs, StringComparison.Ordinal));
        environment["STATE_DIRECTORY"] = state;
        environment["LOGS_DIRECTORY"] = logs;
        var log = environment["HEARTBEAT_LOG_FILE"];
        Assert.StartsWith(logs, log, StringComparison.Ordinal);

        // The unit's port is 7777; a free one here, on loopback only.
        string[] arguments = ["0", "--bind", "127.0.0.1"];
        using (var server = Sandbox.Start(Sandbox.DynamicUid, build.Server, arguments, environment))
        {
            var port = await server.WaitForStartAsync(log);
            await BeatAsync(port, "web1");
            await HeartbeatLogFile.WaitForAsync(log, m => m.Any(l => l.EndsWith("Host: web1", StringComparison.Ordinal)), "the beat in the log");
            server.Terminate();
            Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            Assert.DoesNotContain("Exception", server.StandardOutput + server.StandardError, StringComparison.Ordinal);
        }

        Assert.Equal(Sandbox.DynamicUid, Sandbox.OwnerOf(Path.Combine(state, "heartbeat.db")));
        Assert.Equal(Sandbox.DynamicUid, Sandbox.OwnerOf(log));

        // Started again, it has web1 from its store.
        using var again = Sandbox.Start(Sandbox.DynamicUid, build.Server, arguments, environment);
        var secondPort = await again.WaitForStartAsync(log, earlierStarts: 1);
        using var http = new HttpClient();
        using var host = await http.GetAsync($"http://127.0.0.1:{secondPort}/api/v1/hosts/web1", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, host.StatusCode);
    }

    [Fact]
    public async Task TheInstalledAgentRunsAsAServiceUserWithTheUnitsCommandLineAndBeats()
    {
        Sandbox.SkipUnlessRoot("the agent as its unit's dynamic user");
        var log = _directory.File("server/heartbeat_server.log");
        Directory.CreateDirectory(Path.GetDirectoryName(log)!);
        using var server = ChildProcess.Start(build.Server, ["0", "--bind", "127.0.0.1", "--log-file", log], new Dictionary<string, string?> { ["HEARTBEAT_STORE"] = "memory" });
        var port = await server.WaitForStartAsync(log);
        var stage = _directory.File("stage");
        using (var install = ChildProcess.Start(build.Agent, ["install", $"127.0.0.1:{port}", "--root", stage, "--host", "agent-under-unit"]))
        {
            Assert.Equal(0, await install.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        }

        var unit = UnitFile.Parse(await File.ReadAllTextAsync(Path.Join(stage, "/etc/systemd/system/heartbeat-agent.service"), TestContext.Current.CancellationToken));
        var command = unit.Get("Service", "ExecStart").Split(' ');
        Assert.Equal(AgentProgram, command[0]);
        Sandbox.Passable(stage);

        using var agent = Sandbox.Start(Sandbox.DynamicUid, Path.Join(stage, command[0]), command[1..], new Dictionary<string, string>());
        await HeartbeatLogFile.WaitForAsync(log, m => m.Any(l => l.EndsWith("Host: agent-under-unit", StringComparison.Ordinal)), "the installed agent's beat");
        agent.Terminate();

        Assert.Equal(0, await agent.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(string.Empty, agent.StandardError);
    }

    public void Dispose() => _directory.Dispose();

    private static async Task BeatAsync(int port, string host)
    {
        using var http = new HttpClient();
        using var body = new StringContent($$"""{"host": "{{host}}"}""", Encoding.UTF8, "application/json");
        using var response = await http.PostAsync($"http://127.0.0.1:{port}/", body, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
