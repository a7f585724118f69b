using System.CommandLine;
using System.CommandLine.Parsing;
using Heartbeat.Server.Settings;
using Heartbeat.Server.Storage;

namespace Heartbeat.Server.Hosting;

// The command line: heartbeat-server [port] [options], one option per setting of Settings.
// Every option can also come from its HEARTBEAT_* environment variable (handy under systemd); the command line wins
// over the environment, and what neither gives keeps the options record's default.
internal static class ServerCommand
{
    public const string Name = "heartbeat-server";

    // Exit code for a command line or environment that cannot be used.
    public const int UsageError = 2;

    public static async Task<int> InvokeAsync(string[] args, Func<ServerOptions, CancellationToken, Task<int>> run)
    {
        var parsed = Create(run).Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
            {
                await Console.Error.WriteLineAsync($"{Name}: {error.Message}");
            }

            await Console.Error.WriteLineAsync($"Try '{Name} --help' for the options.");
            return UsageError;
        }

        // The host handles SIGTERM and SIGINT itself and drains in-flight requests; the parser must not race it.
        return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }

    internal static RootCommand Create(Func<ServerOptions, CancellationToken, Task<int>> run)
    {
        var command = new RootCommand(
            "Heartbeat server: receives heartbeats (POST / with a JSON body such as {\"ip\": \"192.168.1.100\"}), "
            + "appends one line per beat to the heartbeat log, tracks every host's liveness and IP, "
            + "and shows them at GET / (HTML, or JSON) and /api/v1/hosts.");
        var settings = ServerOptions.Settings.Select(setting => (Setting: setting, Value: Add(command, setting))).ToList();
        command.Add(HealthProbe.Create());

        command.SetAction(async (result, cancellationToken) =>
        {
            var options = settings.Aggregate(new ServerOptions(), (read, s) => s.Value(result) is { } value ? s.Setting.Apply(read, value) : read);
            if (Contradiction(options) is { } problem)
            {
                await Console.Error.WriteLineAsync($"{Name}: {problem}");
                await Console.Error.WriteLineAsync($"Try '{Name} --help' for the options.");
                return UsageError;
            }

            return await run(options, cancellationToken);
        });
        return command;
    }

    // Settings that cannot go together. Checked once every value is known: a parser validator sees only the command
    // line, not the environment variables that stand in for what it leaves out.
    private static string? Contradiction(ServerOptions options) =>
        (options.Security.TlsCertificate is null) != (options.Security.TlsKey is null) ? "--tls-cert and --tls-key go together: give both, or neither."
        : options.Store.Kind == StoreKind.Postgres && options.Store.Postgres is null ? "--store postgres needs a connection string: --postgres CONNECTION, HEARTBEAT_POSTGRES or HEARTBEAT_POSTGRES_FILE."
        : null;

    // Puts a setting on the command line, and returns how to get its value once parsed: the command line's, else the
    // environment's, else null (the record's default stands). A bad value from either is a parse error naming where it came from.
    private static Func<ParseResult, object?> Add(RootCommand command, Setting<ServerOptions> setting)
    {
        var description = Describe(setting);
        if (setting.IsSwitch)
        {
            var flag = new Option<bool>("--" + setting.Name)
            {
                Description = description,
                DefaultValueFactory = result => FromEnvironment(result, setting).Value is true,
            };
            command.Add(flag);
            return result => result.GetValue(flag);
        }

        if (setting.IsPositional)
        {
            var argument = new Argument<object?>(setting.Name)
            {
                Description = description,
                Arity = ArgumentArity.ZeroOrOne,
                DefaultValueFactory = result => FromEnvironment(result, setting),
                CustomParser = result => Read(result, setting, setting.Name, [.. result.Tokens.Select(t => t.Value)]),
            };
            command.Add(argument);
            return result => Fallback.Unwrap(result.GetValue(argument));
        }

        var option = new Option<object?>("--" + setting.Name)
        {
            Description = description,
            HelpName = setting.ValueName,
            Arity = setting.Separator is null ? ArgumentArity.ExactlyOne : ArgumentArity.OneOrMore,
            DefaultValueFactory = result => FromEnvironment(result, setting),
            CustomParser = result => Read(result, setting, "--" + setting.Name, [.. result.Tokens.Select(t => t.Value)]),
        };
        command.Add(option);
        return result => Fallback.Unwrap(result.GetValue(option));
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

    private static Fallback FromEnvironment(ArgumentResult result, Setting<ServerOptions> setting)
    {
        var text = Environment.GetEnvironmentVariable(setting.Variable);
        if (string.IsNullOrWhiteSpace(text) && setting.IsSecret)
        {
            text = SecretFile(result, setting);
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            return new Fallback(null, setting.DefaultText ?? string.Empty);
        }

        var value = Read(result, setting, setting.Variable, [text]);
        return new Fallback(value, value is null || setting.IsSecret ? string.Empty : text);
    }

    // A secret from a file: the one HEARTBEAT_X_FILE names (the containers' convention), else the systemd credential named
    // like the option (LoadCredential=admin-token:/path puts it in $CREDENTIALS_DIRECTORY).
    private static string? SecretFile(ArgumentResult result, Setting<ServerOptions> setting)
    {
        var variable = setting.Variable + "_FILE";
        var (path, source) = (Environment.GetEnvironmentVariable(variable), variable);
        if (string.IsNullOrWhiteSpace(path) && Environment.GetEnvironmentVariable("CREDENTIALS_DIRECTORY") is { Length: > 0 } credentials
            && File.Exists(Path.Combine(credentials, setting.Name)))
        {
            (path, source) = (Path.Combine(credentials, setting.Name), $"the systemd credential '{setting.Name}'");
        }

        if (string.IsNullOrWhiteSpace(path))
        {
            return null;
        }

        try
        {
            // One secret, perhaps with the newline an editor or echo leaves at the end.
            var secret = File.ReadAllText(path).Trim();
            if (secret.Length == 0)
            {
                result.AddError($"{source}: '{path}' is empty");
            }

            return secret;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            result.AddError($"{source}: cannot read '{path}': {e.Message}");
            return null;
        }
    }

    private static object? Read(ArgumentResult result, Setting<ServerOptions> setting, string source, IReadOnlyList<string> texts)
    {
        if (setting.TryRead(texts, out var value, out var error))
        {
            return value;
        }

        result.AddError($"{source}: {error}");
        return null;
    }

    // What stands for a setting the command line leaves out: its environment variable's value, or null for the record's
    // default. Help shows Text as the default, so it reads as people write it (60s, 100 MiB), and never a secret.
    private sealed record Fallback(object? Value, string Text)
    {
        public static object? Unwrap(object? value) => value is Fallback fallback ? fallback.Value : value;

        public override string ToString() => Text;
    }
}
