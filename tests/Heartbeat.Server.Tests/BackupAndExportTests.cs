using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.VisualBasic.FileIO;

namespace Heartbeat.Server.Tests;

/// <summary>heartbeat-server backup and export against a store a running server writes, and the README's restore.</summary>
public sealed class BackupAndExportTests
{
    private static readonly TimeSpan ExitDeadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ABackupTakenWhileBeatsPourInRestoresEveryHostItCounted()
    {
        using var directory = new TempDirectory();
        var (data, log, backup) = (directory.File("heartbeat.db"), directory.File("heartbeat.log"), directory.File("backup.db"));
        string summary;
        using (var server = Start(data, log))
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{await server.WaitForStartAsync(log)}") };
            await BeatAsync(client, Enumerable.Range(0, 50).Select(i => $"early{i}"), TestContext.Current.CancellationToken);
            await Eventually.TrueAsync(async () => (await ExportAsync(data, "json")).Count(h => h.StartsWith("early", StringComparison.Ordinal)) == 50, "the first hosts in the store");

            // Beats keep coming while the backup copies: bounded in count, from several clients.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            stop.CancelAfter(TimeSpan.FromSeconds(20));
            var load = Task.WhenAll(Enumerable.Range(0, 4).Select(c => BeatAsync(client, Enumerable.Range(0, 300).Select(i => $"load{c}-{i % 100}"), stop.Token)));
            using var backing = ServerProcess.Start(["backup", "--data", data, backup], Sqlite);
            Assert.True(await backing.WaitForExitAsync(ExitDeadline) == 0, backing.StandardError);
            summary = backing.StandardError;
            await load;
        }

        Assert.Matches(@"^Backed up \d+ hosts \(schema \d+, [\d.]+ KiB\) from ", summary);
        var counted = int.Parse(summary.Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture);

        // The README's restore: the server stopped, the copy put where --data points, the server started on it.
        var restored = directory.File("restored.db");
        File.Copy(backup, restored);
        using var again = Start(restored, log);
        using var reader = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{await again.WaitForStartAsync(log, earlierStarts: 1)}") };
        var page = await reader.GetFromJsonAsync<JsonElement>("/api/v1/hosts?limit=1000", TestContext.Current.CancellationToken);
        var ids = page.GetProperty("hosts").EnumerateArray().Select(h => h.GetProperty("id").GetString()).ToList();
        Assert.Equal(counted, ids.Count);
        Assert.Equal(50, ids.Count(id => id!.StartsWith("early", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ABackupNeverOverwritesAFileAndSaysWhatIsWrong()
    {
        using var directory = new TempDirectory();
        await File.WriteAllTextAsync(directory.File("taken.db"), "keep me", TestContext.Current.CancellationToken);

        var (noStore, noStoreError) = await RunAsync(["backup", "--data", directory.File("none.db"), directory.File("copy.db")]);
        var (taken, takenError) = await RunAsync(["backup", "--data", directory.File("taken.db"), directory.File("taken.db")]);
        var (fleet, fleetError) = await RunAsync(["backup", "--store", "postgres", "--postgres", "Host=127.0.0.1", directory.File("copy.db")]);

        Assert.Equal((1, 1, 1), (noStore, taken, fleet));
        Assert.Contains("there is no store at", noStoreError, StringComparison.Ordinal);
        Assert.Contains("exists already", takenError, StringComparison.Ordinal);
        Assert.Contains("pg_dump", fleetError, StringComparison.Ordinal);
        Assert.Equal("keep me", await File.ReadAllTextAsync(directory.File("taken.db"), TestContext.Current.CancellationToken));
        Assert.False(File.Exists(directory.File("copy.db")));
    }

    [Fact]
    public async Task ExportWritesEveryHostAsCsvASpreadsheetReadsAndAsTheApisJson()
    {
        using var directory = new TempDirectory();
        var (data, log) = (directory.File("heartbeat.db"), directory.File("heartbeat.log"));
        using var server = Start(data, log);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{await server.WaitForStartAsync(log)}") };
        await BeatAsync(client, ["web1", "web2"], TestContext.Current.CancellationToken);
        using (var job = await client.GetAsync("/ping/backup/fail?msg=" + Uri.EscapeDataString("rsync: \"disk\" full, exit 23"), TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, job.StatusCode);
        }

        await Eventually.TrueAsync(async () => (await ExportAsync(data, "json")).Count == 3, "three hosts in the store");
        var rows = ParseCsv(string.Join('\n', await ExportAsync(data, "csv")));

        Assert.Equal("host", rows[0][0]);
        var backup = Assert.Single(rows, r => r[0] == "backup");
        Assert.Equal(("failing", "rsync: \"disk\" full, exit 23"), (backup[1], backup[^1]));
        Assert.Equal(["backup", "web1", "web2"], rows.Skip(1).Select(r => r[0]).Order());
        Assert.All(rows, r => Assert.Equal(rows[0].Length, r.Length));
    }

    private static readonly Dictionary<string, string> Sqlite = new() { ["HEARTBEAT_STORE"] = "sqlite" };

    private static ChildProcess Start(string data, string log) =>
        ServerProcess.Start(["0", "--bind", "127.0.0.1", "--log-file", log, "--data", data, "--rate-limit", "0", "--host-rate-limit", "0", "--max-new-hosts-per-minute", "0"], Sqlite);

    private static async Task BeatAsync(HttpClient client, IEnumerable<string> hosts, CancellationToken cancellationToken)
    {
        foreach (var host in hosts)
        {
            using var response = await client.PostAsync("/", new StringContent($$"""{"host": "{{host}}"}""", Encoding.UTF8, "application/json"), cancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    // The export's hosts, one per line for CSV, or the ids for JSON.
    private static async Task<IReadOnlyList<string>> ExportAsync(string data, string format)
    {
        using var export = ServerProcess.Start(["export", "--data", data, "--format", format], Sqlite);
        Assert.True(await export.WaitForExitAsync(ExitDeadline) == 0, export.StandardError);
        return format == "csv"
            ? export.StandardOutput.Split("\r\n", StringSplitOptions.RemoveEmptyEntries)
            : [.. JsonDocument.Parse(export.StandardOutput).RootElement.EnumerateArray().Select(h => h.GetProperty("id").GetString()!)];
    }

    private static List<string[]> ParseCsv(string text)
    {
        using var parser = new TextFieldParser(new StringReader(text)) { TextFieldType = FieldType.Delimited, HasFieldsEnclosedInQuotes = true };
        parser.SetDelimiters(",");
        var rows = new List<string[]>();
        while (!parser.EndOfData)
        {
            rows.Add(parser.ReadFields()!);
        }

        return rows;
    }

    private static async Task<(int Exit, string Error)> RunAsync(string[] arguments)
    {
        using var process = ServerProcess.Start(arguments, Sqlite);
        var exit = await process.WaitForExitAsync(ExitDeadline);
        return (exit, process.StandardError);
    }
}
