using Heartbeat.Server.Hosts;
using Heartbeat.Server.Notify;
using Heartbeat.Server.Security;

namespace Heartbeat.Server.Hosting;

// SIGHUP: the settings are read again (the config file as it is now; the command line and the environment as they
// were) and what can change while the server runs takes effect at once: alert targets, tokens, site groups, the
// allow-lists. One line says what changed, and another what waits for a restart. Settings that no longer read leave
// everything as it was.
internal sealed partial class ConfigReload(
    ServerSettings started, Tokens tokens, AllowList allow, HostNames names, Notifiers notifiers, HostRegistry registry, ILogger<ConfigReload> logger)
{
    // The settings a reload applies; the rest are read at start only.
    public static readonly IReadOnlySet<string> Live = new HashSet<string>(StringComparer.Ordinal)
    {
        "webhook", "notify-exec", "token", "read-token", "admin-token", "group", "allow", "allowed-host",
    };

    private readonly Lock _gate = new();
    private ServerSettings _applied = started;

    public void Reload()
    {
        lock (_gate)
        {
            ServerSettings read;
            try
            {
                read = ServerCommand.Read(_applied.Arguments);
            }
            catch (InvalidDataException e)
            {
                LogNotReloaded(logger, e.Message);
                return;
            }

            var changed = _applied.Values.Zip(read.Values).Where(pair => !pair.First.Texts.SequenceEqual(pair.Second.Texts)).ToList();
            var now = changed.Where(pair => Live.Contains(pair.First.Setting.Name)).ToList();
            var later = changed.Except(now).Select(pair => pair.First.Setting.Name).ToList();

            var options = read.Options;
            tokens.Use(options.Security);
            allow.Use(options.Security);
            names.Use(options.Security);
            notifiers.Use(options.Notify);
            registry.UseSiteRules(options.Hosts.SiteRules);

            // What a later reload compares with: the live settings as now applied, the others as the server started.
            var applied = _applied.Values.Zip(read.Values).Select(pair => Live.Contains(pair.First.Setting.Name) ? pair.Second : pair.First).ToList();
            _applied = _applied with { Values = applied, ConfigPath = read.ConfigPath };

            LogReloaded(logger, read.ConfigPath ?? "none", now.Count == 0 ? "nothing that applies now" : string.Join("; ", now.Select(Describe)));
            if (later.Count > 0)
            {
                LogNeedsRestart(logger, string.Join(", ", later));
            }
        }
    }

    // What changed, without a secret or a list's items (a webhook URL may hold a key): "admin-token set", "webhook: 2 values, was 1".
    private static string Describe((SettingValue Before, SettingValue After) change)
    {
        var (before, after) = change;
        var name = before.Setting.Name;
        return before.Setting.IsSecret ? $"{name} {(after.IsDefault ? "removed" : before.IsDefault ? "set" : "changed")}"
            : before.Setting.Separator is not null ? $"{name}: {Count(after)} given, was {Count(before)}"
            : $"{name}: {Shown(after)}, was {Shown(before)}";
    }

    private static int Count(SettingValue value) => value.IsDefault ? 0 : value.Texts.Sum(t => t.Split(value.Setting.Separator!.Value, StringSplitOptions.RemoveEmptyEntries).Length);

    private static string Shown(SettingValue value) => value.Texts.Count == 0 ? "(none)" : value.Texts[^1];

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Configuration reloaded (config file: {ConfigPath}): {Changes}")]
    private static partial void LogReloaded(ILogger logger, string configPath, string changes);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "Configuration changed where a reload cannot apply it; restart the server for: {Settings}")]
    private static partial void LogNeedsRestart(ILogger logger, string settings);

    [LoggerMessage(EventId = 22, Level = LogLevel.Error, Message = "Configuration not reloaded, the running one stays: {Problem}")]
    private static partial void LogNotReloaded(ILogger logger, string problem);
}
