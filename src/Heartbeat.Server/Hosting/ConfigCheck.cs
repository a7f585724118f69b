using System.CommandLine;

namespace Heartbeat.Server.Hosting;

// heartbeat-server check-config: reads the settings as a start would (command line, environment, config file), says
// what is wrong, or prints the configuration in effect as YAML, each value with where it came from; secrets hidden.
internal static class ConfigCheck
{
    public static Command Create(SettingsResolver resolve)
    {
        var command = new Command("check-config", "Check the settings (command line, environment and config file) without starting the server, and print those in effect");
        command.SetAction(async (parsed, cancellationToken) =>
        {
            var (settings, problem) = resolve(parsed);
            if (settings is null)
            {
                await Console.Error.WriteLineAsync($"{ServerCommand.Name}: {problem}");
                return ServerCommand.UsageError;
            }

            var output = parsed.InvocationConfiguration.Output;
            await output.WriteAsync(Describe(settings).AsMemory(), cancellationToken);
            return 0;
        });
        return command;
    }

    // Valid YAML: what is set reads as the file would say it, defaults are comments.
    public static string Describe(ServerSettings settings)
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine($"# The configuration is valid{(settings.ConfigPath is { } path ? $" (config file: {path})" : " (no config file)")}.");
        foreach (var value in settings.Values)
        {
            var name = value.Setting.Name;
            if (value.IsDefault)
            {
                var shown = value.Texts.Count > 0 ? Scalar(value.Texts[0]) : value.Setting.IsSwitch ? "false" : "(none)";
                text.AppendLine($"# {name}: {shown}   # default");
            }
            else if (value.Setting.IsSecret)
            {
                text.AppendLine($"{name}: \"(hidden)\"   # from {value.Source}");
            }
            else if (value.Setting.Separator is null)
            {
                text.AppendLine($"{name}: {Scalar(value.Texts[^1])}   # from {value.Source}");
            }
            else
            {
                text.AppendLine($"{name}:   # from {value.Source}");
                foreach (var item in ItemsOf(value))
                {
                    text.AppendLine($"  - {Scalar(item)}");
                }
            }
        }

        return text.ToString();
    }

    private static IEnumerable<string> ItemsOf(SettingValue value) => value.Texts.SelectMany(t =>
        t.Split(value.Setting.Separator!.Value, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    // Plain when YAML reads it back as the same string, else double-quoted.
    private static string Scalar(string text)
    {
        var plain = text.Length > 0 && text.Trim() == text && "-?:,[]{}#&*!|>'\"%@`".IndexOf(text[0], StringComparison.Ordinal) < 0
            && !text.Contains(": ", StringComparison.Ordinal) && !text.Contains(" #", StringComparison.Ordinal) && !text.EndsWith(':');
        return plain ? text : $"\"{text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\"";
    }
}
