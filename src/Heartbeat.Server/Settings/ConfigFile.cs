using YamlDotNet.Core;

namespace Heartbeat.Server.Settings;

// A YAML config file whose keys are the long option names, as a command line gives them:
//   log-file: /var/log/heartbeat/heartbeat_server.log
//   webhook: [https://hooks.example.org/a, https://hooks.example.org/b]
// Read whole at start, and again when the server is sent SIGHUP.
internal sealed class ConfigFile
{
    public const string Variable = "HEARTBEAT_CONFIG";
    public const string DefaultPath = "/etc/heartbeat/heartbeat.yaml";

    private ConfigFile(string path, IReadOnlyDictionary<string, IReadOnlyList<string>> values) => (Path, Values) = (path, values);

    public string Path { get; }

    // The texts of every key the file sets: one for a value, one per item for a list.
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Values { get; }

    // Reads the file; every key must be one of known. What is wrong (no file, bad YAML, an unknown key, a mapping
    // where a value belongs) is an InvalidDataException whose message names the file.
    public static ConfigFile Read(string path, IReadOnlySet<string> known)
    {
        IConfigurationRoot root;
        try
        {
            root = new ConfigurationBuilder().AddYamlFile(System.IO.Path.GetFullPath(path), optional: false, reloadOnChange: false).Build();
        }
        catch (FileNotFoundException)
        {
            throw new InvalidDataException($"config file '{path}': no such file");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"config file '{path}': cannot read it: {e.Message}");
        }
        catch (Exception e) when (YamlErrorIn(e) is { } yaml)
        {
            var where = yaml.Start.Line > 0 ? $" at line {yaml.Start.Line}" : string.Empty;
            throw new InvalidDataException($"config file '{path}': not valid YAML{where}: {yaml.Message}");
        }

        var values = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var section in root.GetChildren())
        {
            if (!known.Contains(section.Key))
            {
                throw new InvalidDataException(
                    $"config file '{path}': unknown key '{section.Key}' (keys are the long option names without '--', as in: heartbeat-server --help)");
            }

            var texts = section.Value is { } value ? [value] : ItemsOf(section, path);
            if (texts.Any(t => t.Length > 0))
            {
                values[section.Key] = texts;
            }
        }

        return new ConfigFile(path, values);
    }

    // The configuration framework wraps the parser's error twice.
    private static YamlException? YamlErrorIn(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is YamlException yaml)
            {
                return yaml;
            }
        }

        return null;
    }

    private static string[] ItemsOf(IConfigurationSection section, string path)
    {
        var items = section.GetChildren().ToList();
        if (items.Any(item => !int.TryParse(item.Key, out _) || item.Value is null))
        {
            throw new InvalidDataException($"config file '{path}': '{section.Key}' takes a value or a list of values, not a mapping");
        }

        return [.. items.Select(item => item.Value!)];
    }
}
