using System.CommandLine;
using System.CommandLine.Parsing;
using Heartbeat.Server.Settings;
using Heartbeat.Server.Storage;

namespace Heartbeat.Server.Hosting;

// Resolves a parse into the server's settings, or says what cannot go together.
internal delegate (ServerSettings? Settings, string? Problem) SettingsResolver(ParseResult parsed);

// The command line: heartbeat-server [port] [options], one option per setting of Settings, and the subcommands.
// Every option can also come from its HEARTBEAT_* environment variable (handy under systemd) or from the config file;
// the command line wins over the environment, the environment over the file, and what none gives keeps the options
// record's default.
internal static class ServerCommand
{
    public const string Name = "heartbeat-server";

    // Exit code for a command line, environment or config file that cannot be used.
    public const int UsageError = 2;

    public static async Task<int> InvokeAsync(string[] args, Func<ServerSettings, CancellationToken, Task<int>> run)
    {
        ConfigFile? file;
        try
        {
            file = LoadConfig(args);
        }
        catch (InvalidDataException e)
        {
            return await UsageAsync(e.Message);
        }

        var parsed = Create(run, file, args).Parse(args);
        if (parsed.Errors.Count > 0)
        {
            return await UsageAsync([.. parsed.Errors.Select(e => e.Message)]);
        }

        // The host handles SIGTERM and SIGINT itself and drains in-flight requests; the parser must not race it.
        return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }

    // The settings the arguments, the environment and the config file (as it is now) give; SIGHUP reads them again.
    // Whatever is wrong is one InvalidDataException saying all of it.
    public static ServerSettings Read(IReadOnlyList<string> args)
    {
        var parsed = Build((_, _) => Task.FromResult(0), LoadConfig(args), args, out var resolve).Parse([.. args]);
        if (parsed.Errors.Count > 0)
        {
            throw new InvalidDataException(string.Join("; ", parsed.Errors.Select(e => e.Message)));
        }

        var (settings, problem) = resolve(parsed);
        return settings ?? throw new InvalidDataException(problem);
    }

    internal static RootCommand Create(Func<ServerSettings, CancellationToken, Task<int>> run, ConfigFile? file = null, IReadOnlyList<string>? args = null) =>
        Build(run, file, args ?? [], out _);

    private static RootCommand Build(
        Func<ServerSettings, CancellationToken, Task<int>> run, ConfigFile? file, IReadOnlyList<string> args, out SettingsResolver resolve)
    {
        var command = new RootCommand(
            "Heartbeat server: receives heartbeats (POST / with a JSON body such as {\"ip\": \"192.168.1.100\"}), "
            + "appends one line per beat to the heartbeat log, tracks every host's liveness and IP, "
            + "and shows them at GET / (HTML, or JSON) and /api/v1/hosts.");
        command.Add(new Option<string>("--config")
        {
            Description = "YAML file of settings, its keys the long option names (log-file: /var/log/heartbeat.log); the command line "
                + $"and the environment win over it [env: {ConfigFile.Variable}; default: {ConfigFile.DefaultPath}, when it exists]",
            HelpName = "file",
            Recursive = true,
        });
        var settings = ServerOptions.Settings.Select(setting => Add(command, setting, file)).ToList();
        resolve = parsed =>
        {
            var values = settings.Select(value => value(parsed)).ToList();
            var options = values.Aggregate(new ServerOptions(), (read, v) => v.Value is { } value ? v.Setting.Apply(read, value) : read);
            return Contradiction(options) is { } problem ? (null, problem) : (new ServerSettings(options, values, file?.Path, args), null);
        };

        var resolved = resolve;
        command.SetAction(async (parsed, cancellationToken) =>
        {
            var (read, problem) = resolved(parsed);
            return read is null ? await UsageAsync(problem!) : await run(read, cancellationToken);
        });
        command.Add(ConfigCheck.Create(resolved));
        command.Add(StoreCommands.Backup(resolved));
        command.Add(StoreCommands.Export(resolved));
        command.Add(HealthProbe.Create());
        return command;
    }

    private static ConfigFile? LoadConfig(IReadOnlyList<string> args) =>
        SettingSources.ConfigPathOf(args) is { } path ? ConfigFile.Read(path, ServerOptions.Settings.Select(s => s.Name).ToHashSet(StringComparer.Ordinal)) : null;

    private static async Task<int> UsageAsync(params string[] problems)
    {
        foreach (var problem in problems)
        {
            await Console.Error.WriteLineAsync($"{Name}: {problem}");
        }

        await Console.Error.WriteLineAsync($"Try '{Name} --help' for the options.");
        return UsageError;
    }

    // Settings that cannot go together. Checked once every value is known: a parser validator sees only the command
    // line, not the environment variables and the file that stand in for what it leaves out.
    private static string? Contradiction(ServerOptions options) =>
        (options.Security.TlsCertificate is null) != (options.Security.TlsKey is null) ? "--tls-cert and --tls-key go together: give both, or neither."
        : options.Store.Kind == StoreKind.Postgres && options.Store.Postgres is null ? "--store postgres needs a connection string: --postgres CONNECTION, HEARTBEAT_POSTGRES or HEARTBEAT_POSTGRES_FILE."
        : null;

    // Puts a setting on the command line (for every subcommand too), and returns how to get its value once parsed: the
    // command line's, else the environment's or the file's, else the default. A bad value from any of them is a parse
    // error naming where it came from.
    private static Func<ParseResult, SettingValue> Add(RootCommand command, Setting<ServerOptions> setting, ConfigFile? file)
    {
        var fallback = SettingSources.Fallback(setting, file, out var fallbackError);
        var shown = new Shown(fallback is null || setting.IsSecret ? setting.DefaultText ?? string.Empty : string.Join(", ", fallback.Texts));
        SettingValue Otherwise() => fallback ?? new SettingValue(setting, Value: null, setting.DefaultText is { } text ? [text] : [], SettingValue.Default);
        object? Fallen(ArgumentResult result)
        {
            if (fallbackError is not null)
            {
                result.AddError(fallbackError);
            }

            return shown;
        }

        var description = Describe(setting);
        if (setting.IsSwitch)
        {
            var flag = new Option<bool>("--" + setting.Name)
            {
                Description = description,
                Recursive = true,
                DefaultValueFactory = result => Fallen(result) is not null && fallback?.Value is true,
            };
            command.Add(flag);
            return parsed => parsed.GetResult(flag) is { Implicit: false } given
                ? new SettingValue(setting, parsed.GetValue(flag), given.Tokens.Count > 0 ? [given.Tokens[0].Value] : ["true"], SettingValue.CommandLine)
                : Otherwise();
        }

        if (setting.IsPositional)
        {
            var argument = new Argument<object?>(setting.Name)
            {
                Description = description,
                Arity = ArgumentArity.ZeroOrOne,
                DefaultValueFactory = Fallen,
                CustomParser = result => Read(result, setting, setting.Name),
            };
            command.Add(argument);
            return parsed => parsed.GetResult(argument) is { Tokens.Count: > 0 } given
                ? new SettingValue(setting, parsed.GetValue(argument), [.. given.Tokens.Select(t => t.Value)], SettingValue.CommandLine)
                : Otherwise();
        }

        var option = new Option<object?>("--" + setting.Name)
        {
            Description = description,
            HelpName = setting.ValueName,
            Arity = setting.Separator is null ? ArgumentArity.ExactlyOne : ArgumentArity.OneOrMore,
            Recursive = true,
            DefaultValueFactory = Fallen,
            CustomParser = result => Read(result, setting, "--" + setting.Name),
        };
        command.Add(option);
        return parsed => parsed.GetResult(option) is { Implicit: false } given
            ? new SettingValue(setting, parsed.GetValue(option), [.. given.Tokens.Select(t => t.Value)], SettingValue.CommandLine)
            : Otherwise();
    }

    private static string Describe(Setting<ServerOptions> setting)
    {
        var secret = setting.IsSecret
            ? $"; prefer the environment, a file or a systemd credential, as command lines show in ps [env: {setting.Variable}, or {setting.Variable}_FILE; credential: {setting.Name}]"
            : string.Empty;
        var joined = setting.Separator switch
        {
            null => string.Empty,
            ',' => ", comma-separated",
            ' ' => ", space-separated",
            _ => ", one per line",
        };
        return setting.IsSecret ? $"{setting.Help}{secret}" : $"{setting.Help} [env: {setting.Variable}{joined}]";
    }

    private static object? Read(ArgumentResult result, Setting<ServerOptions> setting, string source)
    {
        if (setting.TryRead([.. result.Tokens.Select(t => t.Value)], out var value, out var error))
        {
            return value;
        }

        result.AddError($"{source}: {error}");
        return null;
    }

    // What help shows as the default of a setting the command line leaves out: the environment's or the file's value,
    // else the record's default, as people write it (60s, 100 MiB), and never a secret.
    private sealed record Shown(string Text)
    {
        public override string ToString() => Text;
    }
}
