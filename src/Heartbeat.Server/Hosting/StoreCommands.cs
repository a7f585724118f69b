using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Heartbeat.Server.Settings;
using Heartbeat.Server.Storage;
using Heartbeat.Server.Web;

namespace Heartbeat.Server.Hosting;

// heartbeat-server backup and export: the store's data, taken while the server runs or not. Both read the store the
// settings name (--data, --store, --postgres), and never write to it.
internal static class StoreCommands
{
    public static Command Backup(SettingsResolver resolve)
    {
        var output = new Argument<string>("file") { Description = "Where the copy goes: a new file (an existing one is never overwritten)" };
        var command = new Command("backup", "Copy the SQLite store (--data) to a new file with SQLite's online backup, safe while the server runs") { output };
        command.SetAction((parsed, cancellationToken) => RunAsync(resolve, parsed, async (settings, console) =>
        {
            switch (settings.Options.Store.Kind)
            {
                case StoreKind.Postgres:
                    throw new InvalidDataException("backup copies the SQLite store; back up a PostgreSQL store with pg_dump");
                case StoreKind.Memory:
                    throw new InvalidDataException("--store memory keeps nothing to back up; give the SQLite store with --data");
            }

            var source = settings.Options.Store.Path;
            var destination = parsed.GetValue(output)!;
            var summary = await SqliteBackup.CopyAsync(source, destination, cancellationToken);
            await console.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"Backed up {summary.Hosts} hosts (schema {summary.Schema}, {ByteSize.Format(summary.Bytes)}) from {source} to {destination}"));
        }));
        return command;
    }

    public static Command Export(SettingsResolver resolve)
    {
        var format = new Option<string>("--format") { Description = "json (as the API shows hosts) or csv (one row per host)", DefaultValueFactory = _ => "json" };
        format.AcceptOnlyFromAmong("json", "csv");
        var output = new Option<string>("--output") { Description = "The file to write; default: standard output", HelpName = "file" };
        var command = new Command("export", "Write every host in the store (--data, or --store postgres) as JSON or CSV") { format, output };
        command.SetAction((parsed, cancellationToken) => RunAsync(resolve, parsed, async (settings, console) =>
        {
            var hosts = await LoadAsync(settings.Options, cancellationToken);
            var views = new HostViews(settings.Options.Hosts, TimeProvider.System);
            var text = parsed.GetValue(format) == "csv"
                ? Csv([.. hosts.Select(h => views.From(h))])
                : JsonSerializer.Serialize<IReadOnlyList<HostView>>([.. hosts.Select(h => views.From(h, withBody: true))], ApiJsonContext.Default.IReadOnlyListHostView) + "\n";
            if (parsed.GetValue(output) is { } path)
            {
                await File.WriteAllTextAsync(path, text, cancellationToken);
                await console.WriteLineAsync($"Exported {hosts.Count} hosts to {path}");
            }
            else
            {
                await parsed.InvocationConfiguration.Output.WriteAsync(text.AsMemory(), cancellationToken);
            }
        }));
        return command;
    }

    // Runs a command on the settings; what goes wrong is one line, and exit code 1.
    private static async Task<int> RunAsync(SettingsResolver resolve, ParseResult parsed, Func<ServerSettings, TextWriter, Task> run)
    {
        var (settings, problem) = resolve(parsed);
        if (settings is null)
        {
            await Console.Error.WriteLineAsync($"{ServerCommand.Name}: {problem}");
            return ServerCommand.UsageError;
        }

        try
        {
            await run(settings, Console.Error);
            return 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or StoreUnavailableException
            or Microsoft.Data.Sqlite.SqliteException or Npgsql.NpgsqlException)
        {
            await Console.Error.WriteLineAsync($"{ServerCommand.Name} {parsed.CommandResult.Command.Name}: {e.Message}");
            return 1;
        }
    }

    // A SQLite store is read from a backup of it, so that the live file is never opened for writing (nor migrated).
    private static async Task<IReadOnlyList<Hosts.HostRecord>> LoadAsync(ServerOptions options, CancellationToken cancellationToken)
    {
        switch (options.Store.Kind)
        {
            case StoreKind.Postgres:
                await using (var fleet = PostgresHostStore.Open(options.Store.Postgres!, options.Notify.LongestAttempt, () => []))
                {
                    return (await fleet.LoadAsync(cancellationToken)).Hosts;
                }

            case StoreKind.Sqlite:
                var copy = Path.Combine(Path.GetTempPath(), $"heartbeat-export-{Guid.NewGuid():N}.db");
                try
                {
                    await SqliteBackup.CopyAsync(options.Store.Path, copy, cancellationToken);
                    await using var store = SqliteHostStore.OpenFile(copy);
                    return (await store.LoadAsync(cancellationToken)).Hosts;
                }
                finally
                {
                    foreach (var file in new[] { copy, copy + "-wal", copy + "-shm" })
                    {
                        File.Delete(file);
                    }
                }

            default:
                throw new InvalidDataException("--store memory keeps nothing to export; give the store with --data or --store postgres");
        }
    }

    private static string Csv(IReadOnlyList<HostView> hosts)
    {
        var csv = new StringBuilder("host,state,ip,reported_ip,peer,site,first_seen,last_seen,state_since,beats,interval_seconds,interval_source,ip_changes,message\r\n");
        foreach (var h in hosts)
        {
            string[] fields =
            [
                h.Id, h.State, h.Ip, h.ReportedIp ?? string.Empty, h.Peer, h.Site ?? string.Empty, Time(h.FirstSeen), Time(h.LastSeen), Time(h.StateSince),
                h.Beats.ToString(CultureInfo.InvariantCulture), h.IntervalSeconds.ToString(CultureInfo.InvariantCulture), h.IntervalSource,
                h.IpChanges.ToString(CultureInfo.InvariantCulture), h.Message ?? string.Empty,
            ];
            csv.AppendJoin(',', fields.Select(Field)).Append("\r\n");
        }

        return csv.ToString();

        static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

        // RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.
        static string Field(string text) => text.AsSpan().IndexOfAny(",\"\r\n") < 0 ? text : $"\"{text.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
    }
}
