using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Heartbeat.Deploy.Tests;

/// <summary>
/// The Dockerfile and deploy/compose.yaml, without a container engine (none runs here): the image's build runs the
/// publish script these tests build with, and the published server runs with the image's environment, user, volume and
/// health check; compose.yaml's servers are given only options the server knows, and their secrets from files.
/// </summary>
public sealed partial class ContainerTests(PublishedBuild build) : IDisposable
{
    private const int ImageUid = 1654; // the app user of Microsoft's .NET images
    private static readonly string[] IgnoredInTheBuildContext = ["**/bin/", "**/obj/", "dist/", "deploy/secrets/"];
    private readonly TempDirectory _directory = new();

    [Fact]
    public void TheImageIsBuiltByThePublishScriptOnTheSdkAndRunsNativeAotOnRuntimeDepsAsANonRootUser()
    {
        var dockerfile = Dockerfile.Read();

        Assert.Equal(2, dockerfile.Stages.Count);
        var buildStage = dockerfile.Stages[0];
        Assert.Equal("mcr.microsoft.com/dotnet/sdk:10.0 AS build", Dockerfile.Stage(buildStage, "FROM").Single());
        var run = string.Join('\n', Dockerfile.Stage(buildStage, "RUN"));
        Assert.Contains("install -y --no-install-recommends clang zlib1g-dev", run, StringComparison.Ordinal); // NativeAOT, as publish.sh builds it with clang
        Assert.Contains("deploy/publish.sh --out /dist \"$rid\"", run, StringComparison.Ordinal);
        Assert.Contains("cp \"/dist/$rid/heartbeat-server\" \"/dist/$rid/libe_sqlite3.so\" /app/", run, StringComparison.Ordinal);
        if (build.IsNativeAot)
        {
            Assert.True(File.Exists(Path.Combine(build.Directory, "libe_sqlite3.so")));
        }

        var runtime = dockerfile.Runtime;
        Assert.Equal("mcr.microsoft.com/dotnet/runtime-deps:10.0", Dockerfile.Stage(runtime, "FROM").Single());
        Assert.Equal($"{ImageUid}:{ImageUid}", Dockerfile.Stage(runtime, "USER").Single());
        Assert.Equal("/data", Dockerfile.Stage(runtime, "VOLUME").Single());
        Assert.Equal("7777", Dockerfile.Stage(runtime, "EXPOSE").Single());
        Assert.Equal(["/app/heartbeat-server"], Dockerfile.ExecForm(Dockerfile.Stage(runtime, "ENTRYPOINT").Single()));
        Assert.Equal(["/app/heartbeat-server", "healthcheck"], Dockerfile.ExecForm(Dockerfile.Stage(runtime, "HEALTHCHECK").Single()));
        Assert.All(dockerfile.Environment().Values.Where(v => v.StartsWith('/')), path => Assert.StartsWith("/data/", path, StringComparison.Ordinal));
        var ignored = Repository.Read(".dockerignore");
        Assert.All(IgnoredInTheBuildContext, entry => Assert.Contains(entry + "\n", ignored, StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheServerRunsWithTheImagesEnvironmentUserAndVolumeAndItsHealthCheckTellsUpFromDown()
    {
        Sandbox.SkipUnlessRoot("the server as the image's user");
        var dockerfile = Dockerfile.Read();
        var data = Sandbox.OwnedDirectory(_directory.File("data"), ImageUid);
        Sandbox.Passable(data);
        Sandbox.Passable(build.Directory);

        // The image's ENV with its volume here, and a free port on loopback instead of 7777 on every interface.
        var port = Sandbox.FreePort();
        var environment = dockerfile.Environment().ToDictionary(e => e.Key, e => e.Value.Replace("/data/", data + "/", StringComparison.Ordinal));
        Assert.Equal("7777", environment["HEARTBEAT_PORT"]);
        environment["HEARTBEAT_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        environment["HEARTBEAT_BIND"] = "127.0.0.1";
        string App(string path) => path.Replace("/app/", build.Directory + "/", StringComparison.Ordinal);
        var entrypoint = Dockerfile.ExecForm(Dockerfile.Stage(dockerfile.Runtime, "ENTRYPOINT").Single());
        var healthcheck = Dockerfile.ExecForm(Dockerfile.Stage(dockerfile.Runtime, "HEALTHCHECK").Single());
        var log = environment["HEARTBEAT_LOG_FILE"];

        using var server = Sandbox.Start(ImageUid, App(entrypoint[0]), entrypoint[1..], environment);
        Assert.Equal(port, await server.WaitForStartAsync(log));
        using (var http = new HttpClient())
        using (var body = new StringContent("""{"host": "in-a-container"}""", Encoding.UTF8, "application/json"))
        using (var beat = await http.PostAsync($"http://127.0.0.1:{port}/", body, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, beat.StatusCode);
        }

        using var healthy = Sandbox.Start(ImageUid, App(healthcheck[0]), healthcheck[1..], environment);
        Assert.Equal(0, await healthy.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("200 healthy", healthy.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Host: in-a-container", string.Join('\n', HeartbeatLogFile.HeartbeatMessages(log)), StringComparison.Ordinal);
        Assert.Contains($"Listening on http://127.0.0.1:{port}", server.StandardOutput, StringComparison.Ordinal); // the console log, for docker logs
        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));

        using var down = Sandbox.Start(ImageUid, App(healthcheck[0]), healthcheck[1..], environment);
        Assert.Equal(1, await down.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("cannot reach it", down.StandardError, StringComparison.Ordinal);
        Assert.Equal(ImageUid, Sandbox.OwnerOf(Path.Combine(data, "heartbeat.db")));
        Assert.Equal(ImageUid, Sandbox.OwnerOf(log));
    }

    [Fact]
    public async Task ComposeRunsTwoFleetServersOnPostgresWithOnlyOptionsTheServerKnowsAndSecretsFromFiles()
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(Repository.Read("deploy", "compose.yaml")));
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        var services = (YamlMappingNode)root["services"];
        var declaredSecrets = ((YamlMappingNode)root["secrets"]).Children.ToDictionary(s => s.Key.ToString(), s => ((YamlMappingNode)s.Value)["file"].ToString());
        var variables = await ServerVariablesAsync();

        var servers = services.Children.Where(s => ((YamlMappingNode)s.Value)["image"].ToString() == "heartbeat-server").ToList();
        Assert.Equal(2, servers.Count);
        Assert.Equal("..", ((YamlMappingNode)servers[0].Value)["build"].ToString()); // the repository's Dockerfile
        var published = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, node) in servers.Select(s => (s.Key.ToString(), (YamlMappingNode)s.Value)))
        {
            var environment = ((YamlMappingNode)node["environment"]).Children.ToDictionary(e => e.Key.ToString(), e => e.Value.ToString());
            Assert.All(environment.Keys, variable => Assert.True(variables.Contains(variable), $"{name}: {variable} is no variable of heartbeat-server --help"));
            Assert.Equal("postgres", environment["HEARTBEAT_STORE"]);
            Assert.Contains("HEARTBEAT_POSTGRES_FILE", environment.Keys);
            AssertSecretsFromFiles(name, node, environment, declaredSecrets);
            Assert.Equal("service_healthy", ((YamlMappingNode)((YamlMappingNode)node["depends_on"])["postgres"])["condition"].ToString());
            var port = Assert.Single(((YamlSequenceNode)node["ports"]).Children).ToString();
            Assert.EndsWith(":7777", port, StringComparison.Ordinal);
            Assert.True(published.Add(port.Split(':')[0]), $"{name}: host port {port} taken twice");
        }

        var postgres = (YamlMappingNode)services["postgres"];
        var database = ((YamlMappingNode)postgres["environment"]).Children.ToDictionary(e => e.Key.ToString(), e => e.Value.ToString());
        Assert.DoesNotContain("POSTGRES_PASSWORD", database.Keys);
        AssertSecretsFromFiles("postgres", postgres, database, declaredSecrets);
    }

    [Fact]
    public async Task TheReadmesSecretsRecipeMakesEveryFileComposeNamesWithOnePasswordForTheDatabaseAndTheServers()
    {
        var readme = Repository.Read("README.md");
        var start = readme.IndexOf("cd deploy\nmkdir -m 700 secrets\n", StringComparison.Ordinal);
        Assert.True(start >= 0, "the README's secrets recipe");
        var recipe = readme[start..readme.IndexOf("docker compose up", start, StringComparison.Ordinal)];
        Directory.CreateDirectory(_directory.File("deploy"));
        File.Copy(Repository.File("deploy", "compose.yaml"), _directory.File("deploy/compose.yaml"));
        await File.WriteAllTextAsync(_directory.File("recipe.sh"), $"set -euo pipefail\ncd {_directory.Path}\n{recipe}", TestContext.Current.CancellationToken);

        using var run = ChildProcess.Start("/bin/bash", [_directory.File("recipe.sh")]);

        Assert.Equal(0, await run.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var yaml = new YamlStream();
        yaml.Load(new StringReader(Repository.Read("deploy", "compose.yaml")));
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        foreach (var secret in ((YamlMappingNode)root["secrets"]).Children.Values.Cast<YamlMappingNode>())
        {
            var file = Path.Combine(_directory.File("deploy"), secret["file"].ToString());
            Assert.True(File.Exists(file), file);
            Assert.NotEmpty(await File.ReadAllTextAsync(file, TestContext.Current.CancellationToken));
        }

        var password = await File.ReadAllTextAsync(_directory.File("deploy/secrets/postgres-password"), TestContext.Current.CancellationToken);
        var connection = (await File.ReadAllTextAsync(_directory.File("deploy/secrets/heartbeat-postgres"), TestContext.Current.CancellationToken))
            .Split(';').Select(part => part.Split('=', 2)).ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);
        var database = (YamlMappingNode)((YamlMappingNode)((YamlMappingNode)root["services"])["postgres"])["environment"];
        Assert.Equal(24, password.Length);
        Assert.Equal(password, connection["Password"]);
        Assert.Equal(("postgres", database["POSTGRES_DB"].ToString(), database["POSTGRES_USER"].ToString()), (connection["Host"], connection["Database"], connection["Username"]));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_directory.File("deploy/secrets")));
    }

    public void Dispose() => _directory.Dispose();

    // Every *_FILE variable names /run/secrets/NAME of a secret the service is given and the file declares.
    private static void AssertSecretsFromFiles(string service, YamlMappingNode node, Dictionary<string, string> environment, Dictionary<string, string> declared)
    {
        var given = ((YamlSequenceNode)node["secrets"]).Children.Select(s => s.ToString()).ToList();
        var files = environment.Where(e => e.Key.EndsWith("_FILE", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(files);
        foreach (var (variable, path) in files)
        {
            Assert.StartsWith("/run/secrets/", path, StringComparison.Ordinal);
            var secret = path["/run/secrets/".Length..];
            Assert.True(given.Contains(secret) && declared.ContainsKey(secret), $"{service}: {variable} names {secret}, which is not given to it or declared");
            Assert.StartsWith("./secrets/", declared[secret], StringComparison.Ordinal);
        }
    }

    // The variables the published server reads: each [env: HEARTBEAT_X] of its help, and HEARTBEAT_X_FILE for secrets.
    private async Task<HashSet<string>> ServerVariablesAsync()
    {
        using var help = ChildProcess.Start(build.Server, ["--help"]);
        Assert.Equal(0, await help.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var variables = EnvironmentVariable().Matches(help.StandardOutput).Select(m => m.Groups["name"].Value)
            .Concat(SecretFileVariable().Matches(help.StandardOutput).Select(m => m.Groups["name"].Value)).ToHashSet(StringComparer.Ordinal);
        Assert.Contains("HEARTBEAT_STORE", variables);
        Assert.Contains("HEARTBEAT_POSTGRES_FILE", variables);
        return variables;
    }

    [GeneratedRegex(@"\[env: (?<name>HEARTBEAT_[A-Z_]+)")]
    private static partial Regex EnvironmentVariable();

    [GeneratedRegex(@"or (?<name>HEARTBEAT_[A-Z_]+_FILE)")]
    private static partial Regex SecretFileVariable();
}
