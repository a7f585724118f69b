using Heartbeat.Server.Settings;

namespace Heartbeat.Server.Hosting;

// A setting as read: its value, the texts it was read from and where they came from.
internal sealed record SettingValue(Setting<ServerOptions> Setting, object? Value, IReadOnlyList<string> Texts, string Source)
{
    public const string CommandLine = "command line";
    public const string Default = "default";

    public bool IsDefault => Source == Default;
}

// What the server was started with: the options, every setting's value and source, the config file (if any), and the
// arguments, to read it all again on SIGHUP.
internal sealed record ServerSettings(ServerOptions Options, IReadOnlyList<SettingValue> Values, string? ConfigPath, IReadOnlyList<string> Arguments);

// What stands in for a setting the command line leaves out, in order: its HEARTBEAT_* environment variable (for a secret,
// also HEARTBEAT_*_FILE or a systemd credential), then the config file; else the options record's default.
internal static class SettingSources
{
    // The config file to read: --config's, else HEARTBEAT_CONFIG's, else /etc/heartbeat/heartbeat.yaml when it exists.
    // Needed before the command line is parsed, as its values are the fallbacks of the options there.
    public static string? ConfigPathOf(IReadOnlyList<string> args)
    {
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] == "--config" && i + 1 < args.Count)
            {
                return args[i + 1];
            }

            if (args[i].StartsWith("--config=", StringComparison.Ordinal))
            {
                return args[i]["--config=".Length..];
            }
        }

        return Environment.GetEnvironmentVariable(ConfigFile.Variable) is { Length: > 0 } path ? path
            : File.Exists(ConfigFile.DefaultPath) ? ConfigFile.DefaultPath
            : null;
    }

    // The setting's value from the environment or the file, or null when neither gives one; error says what is wrong
    // with a value given, naming where it came from.
    public static SettingValue? Fallback(Setting<ServerOptions> setting, ConfigFile? file, out string? error)
    {
        error = null;
        var (texts, source) = FromEnvironment(setting, ref error);
        if (texts is null && file?.Values.GetValueOrDefault(setting.Name) is { } fromFile)
        {
            (texts, source) = (fromFile, $"{file.Path} ({setting.Name})");
        }

        if (texts is null || error is not null)
        {
            return null;
        }

        if (!setting.TryRead(texts, out var value, out var problem))
        {
            error = $"{source}: {problem}";
            return null;
        }

        return new SettingValue(setting, value, texts, source);
    }

    private static (IReadOnlyList<string>? Texts, string Source) FromEnvironment(Setting<ServerOptions> setting, ref string? error)
    {
        if (Environment.GetEnvironmentVariable(setting.Variable) is { } text && !string.IsNullOrWhiteSpace(text))
        {
            return ([text], setting.Variable);
        }

        return setting.IsSecret ? SecretFile(setting, ref error) : (null, string.Empty);
    }

    // A secret from a file: the one HEARTBEAT_X_FILE names (the containers' convention), else the systemd credential named
    // like the option (LoadCredential=admin-token:/path puts it in $CREDENTIALS_DIRECTORY).
    private static (IReadOnlyList<string>? Texts, string Source) SecretFile(Setting<ServerOptions> setting, ref string? error)
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
            return (null, string.Empty);
        }

        try
        {
            // One secret, perhaps with the newline an editor or echo leaves at the end.
            var secret = File.ReadAllText(path).Trim();
            if (secret.Length == 0)
            {
                error = $"{source}: '{path}' is empty";
            }

            return ([secret], source);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = $"{source}: cannot read '{path}': {e.Message}";
            return (null, source);
        }
    }
}
