using System.Globalization;
using System.Net;
using System.Runtime.Versioning;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Heartbeat.Server.Tests;

/// <summary>
/// The SQLite file under a running server, as operators and disks treat it: deleted, replaced by another file, made
/// read-only. Each is noticed and said (the console, /healthz, /metrics), and no host's state is thrown away.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class StoreHealthTests
{
    [Fact]
    public async Task ADeletedStoreFileIsCreatedAgainWithEveryHostAndSaidOnce()
    {
        using var directory = new TempDirectory();
        var store = directory.File("heartbeat.db");
        using var server = Start(directory);
        using var http = await ClientAsync(server, directory);
        await BeatAsync(http, "web1");
        await BeatAsync(http, "web2");
        await WaitStoredAsync(store, "web1", "web2");

        DeleteWithCompanions(store);
        await BeatAsync(http, "web3");

        await WaitStoredAsync(store, "web1", "web2", "web3");
        var health = await HealthAsync(http);
        Assert.Equal(HttpStatusCode.OK, health.Status);
        Assert.Contains("was deleted", health.Store.GetProperty("lastError").GetString(), StringComparison.Ordinal);
        Assert.Single(ErrorLines(server), line => line.Contains("was deleted", StringComparison.Ordinal));
        Assert.Contains("web1", await RestartedHostsAsync(server, directory));
    }

    [Fact]
    public async Task AStoreFileReplacedByAnotherIsGivenEveryHostAndSaid()
    {
        using var directory = new TempDirectory();
        var store = directory.File("heartbeat.db");
        using var server = Start(directory);
        using var http = await ClientAsync(server, directory);
        await BeatAsync(http, "web1");
        await WaitStoredAsync(store, "web1");

        // Another server's file, put in its place as `mv` does.
        using var other = new TempDirectory();
        using (var otherServer = Start(other))
        using (var otherHttp = await ClientAsync(otherServer, other))
        {
            await BeatAsync(otherHttp, "elsewhere");
            await WaitStoredAsync(other.File("heartbeat.db"), "elsewhere");
            otherServer.Terminate();
            Assert.Equal(0, await otherServer.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        }

        DeleteWithCompanions(store);
        File.Move(other.File("heartbeat.db"), store);
        await BeatAsync(http, "web2");

        await WaitStoredAsync(store, "web1", "web2", "elsewhere");
        Assert.Contains("was replaced", (await HealthAsync(http)).Store.GetProperty("lastError").GetString(), StringComparison.Ordinal);
        Assert.Single(ErrorLines(server), line => line.Contains("was replaced", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AStoreFoundReadOnlyAtStartKeepsItsHostsFailsHealthWithOneLineAndTakesEveryChangeOnceWritable()
    {
        using var directory = new TempDirectory();
        var store = directory.File("heartbeat.db");
        using (var first = Start(directory))
        using (var http = await ClientAsync(first, directory))
        {
            await BeatAsync(http, "web1");
            first.Terminate();
            Assert.Equal(0, await first.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        }

        File.SetUnixFileMode(store, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        using var server = Start(directory, withoutRootsOverride: true);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{await server.WaitForStartAsync(directory.File("heartbeat_server.log"), earlierStarts: 1)}") };
        Assert.Contains("web1", await HostsAsync(client));
        await BeatAsync(client, "web2"); // acknowledged: its line is in the log

        await Eventually.TrueAsync(async () => (await HealthAsync(client)).Status == HttpStatusCode.ServiceUnavailable, "the store reported unwritable");
        var failing = (await HealthAsync(client)).Store;
        Assert.Equal("Unhealthy", failing.GetProperty("status").GetString());
        Assert.Contains("readonly", failing.GetProperty("lastError").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0.0, Metric(await client.GetStringAsync("/metrics", TestContext.Current.CancellationToken), "heartbeat_store_writable"));
        await BeatAsync(client, "web3");
        await Eventually.TrueAsync(() => ErrorLines(server).Length > 0, "the failure said on the console");

        File.SetUnixFileMode(store, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        await WaitStoredAsync(store, "web1", "web2", "web3");
        await Eventually.TrueAsync(async () => (await HealthAsync(client)).Status == HttpStatusCode.OK, "healthy again");
        Assert.Single(ErrorLines(server)); // one line for the whole spell, not one a flush
    }

    // A file's mode does not stop root: as root (CI), the server runs without the capability that lets it write anyway.
    private static ChildProcess Start(TempDirectory directory, bool withoutRootsOverride = false)
    {
        string[] arguments = ["0", "--bind", "127.0.0.1", "--log-file", directory.File("heartbeat_server.log"), "--data", directory.File("heartbeat.db")];
        var environment = new Dictionary<string, string?> { ["HEARTBEAT_STORE"] = "sqlite" };
        return withoutRootsOverride && Environment.IsPrivilegedProcess
            ? ChildProcess.Start("/usr/bin/setpriv", ["--bounding-set=-dac_override", Path.Combine(AppContext.BaseDirectory, "heartbeat-server"), .. arguments], environment)
            : ChildProcess.Start("heartbeat-server", arguments, environment);
    }

    private static async Task<HttpClient> ClientAsync(ChildProcess server, TempDirectory directory) =>
        new() { BaseAddress = new Uri($"http://127.0.0.1:{await server.WaitForStartAsync(directory.File("heartbeat_server.log"))}") };

    private static async Task BeatAsync(HttpClient http, string host)
    {
        using var response = await http.PostAsync("/", new StringContent($$"""{"host": "{{host}}"}""", Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static Task WaitStoredAsync(string store, params string[] hosts) =>
        Eventually.TrueAsync(() => hosts.All(StoredHosts(store).Contains), $"{string.Join(", ", hosts)} in {store}");

    private static HashSet<string> StoredHosts(string store)
    {
        if (!File.Exists(store))
        {
            return [];
        }

        try
        {
            using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = store, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT id FROM hosts";
            using var reader = command.ExecuteReader();
            var hosts = new HashSet<string>(StringComparer.Ordinal);
            while (reader.Read())
            {
                hosts.Add(reader.GetString(0));
            }

            return hosts;
        }
        catch (SqliteException)
        {
            return []; // not there yet, or being created
        }
    }

    private static void DeleteWithCompanions(string store)
    {
        foreach (var file in new[] { store, store + "-wal", store + "-shm" })
        {
            File.Delete(file);
        }
    }

    // What the store's writer said went wrong (the notifier's outbox, in the same file, may say so too).
    private static string[] ErrorLines(ChildProcess server) =>
        [.. server.StandardOutput.Split('\n').Where(line => line.Contains("fail: Heartbeat.Server.Storage.StoreFlusher", StringComparison.Ordinal))];

    private static async Task<HashSet<string>> RestartedHostsAsync(ChildProcess server, TempDirectory directory)
    {
        server.Terminate();
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        using var restarted = Start(directory);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{await restarted.WaitForStartAsync(directory.File("heartbeat_server.log"), earlierStarts: 1)}") };
        return await HostsAsync(http);
    }

    private static async Task<HashSet<string>> HostsAsync(HttpClient http)
    {
        using var hosts = JsonDocument.Parse(await http.GetStringAsync("/api/v1/hosts", TestContext.Current.CancellationToken));
        return [.. hosts.RootElement.GetProperty("hosts").EnumerateArray().Select(h => h.GetProperty("id").GetString()!)];
    }

    private static async Task<(HttpStatusCode Status, JsonElement Store)> HealthAsync(HttpClient http)
    {
        using var response = await http.GetAsync("/healthz", TestContext.Current.CancellationToken);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        return (response.StatusCode, body.RootElement.GetProperty("checks").GetProperty("store").Clone());
    }

    private static double Metric(string scrape, string name) => double.Parse(
        scrape.Split('\n').Single(line => line.StartsWith(name + " ", StringComparison.Ordinal))[(name.Length + 1)..], CultureInfo.InvariantCulture);
}
