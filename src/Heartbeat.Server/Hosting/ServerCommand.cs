using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using Heartbeat.Protocol;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Logging;
using Heartbeat.Server.Notify;
using Heartbeat.Server.Security;
using Heartbeat.Server.Storage;

namespace Heartbeat.Server.Hosting;

/// <summary>
/// The command line: <c>heartbeat-server [port] [options]</c>. Every option can also come from a
/// HEARTBEAT_* environment variable (handy under systemd); the command line wins over the environment.
/// </summary>
internal static class ServerCommand
{
    public const string Name = "heartbeat-server";

    /// <summary>Exit code for a command line or environment that cannot be used.</summary>
    public const int UsageError = 2;

    private delegate bool ValueParser<T>(string text, out T value, out string error);

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
        var port = new Argument<int>("port")
        {
            Description = "TCP port to listen on [env: HEARTBEAT_PORT]",
            Arity = ArgumentArity.ZeroOrOne,
            DefaultValueFactory = FromEnvironment("HEARTBEAT_PORT", ServerOptions.DefaultPort, TryParsePort),
            CustomParser = FromToken<int>("port", TryParsePort),
        };
        var bind = List<string>("--bind", "HEARTBEAT_BIND", "address", ',', TryParseBindList,
            "Address to listen on, repeatable (e.g. 127.0.0.1, ::1, localhost); default: every interface");
        var logFile = Setting("--log-file", "HEARTBEAT_LOG_FILE", "path", HeartbeatLogOptions.DefaultPath, TryParsePath,
            "Heartbeat log to append to; '-' writes to standard output");
        var logMaxSize = Setting("--log-max-size", "HEARTBEAT_LOG_MAX_SIZE", "size", HeartbeatLogOptions.DefaultMaxSizeBytes, TryParseSize,
            "Rotate the log when it would grow past this size; 0 never rotates");
        var logKeep = Setting("--log-keep", "HEARTBEAT_LOG_KEEP", "count", HeartbeatLogOptions.DefaultKeep, TryParseKeep,
            "Rotated log files to keep (path.1 is the newest)");
        var fsync = new Option<bool>("--fsync")
        {
            Description = "fsync the log after every batch: acknowledged beats survive a power cut, at some cost in speed [env: HEARTBEAT_FSYNC]",
            DefaultValueFactory = FromEnvironment("HEARTBEAT_FSYNC", false, TryParseBool),
        };
        var maxBody = Setting("--max-body", "HEARTBEAT_MAX_BODY", "size", ServerOptions.DefaultMaxBodyBytes, TryParseBodySize,
            "Largest heartbeat body accepted; larger ones get 413");

        var data = Setting("--data", "HEARTBEAT_DATA", "path", StoreOptions.DefaultPath(), TryParsePath,
            "SQLite file that keeps hosts, their history and events across restarts");
        var store = Setting("--store", "HEARTBEAT_STORE", "sqlite|memory|postgres", StoreKind.Sqlite, TryParseStore,
            "'sqlite' keeps state in the --data file; 'memory' forgets it at exit; 'postgres' shares it with other servers in the --postgres database");
        var postgres = Secret("--postgres", "HEARTBEAT_POSTGRES",
            "The PostgreSQL connection string of --store postgres, e.g. \"Host=db;Database=heartbeat;Username=heartbeat;Password=…\"");
        var misses = Setting("--down-after-misses", "HEARTBEAT_DOWN_AFTER_MISSES", "count", new HostsOptions().MissesBeforeDown, TryParseMisses,
            "Missed intervals before a host is down, for hosts that do not send \"misses\" (default 1: down after one interval plus grace)");
        var defaultInterval = Setting("--default-interval", "HEARTBEAT_DEFAULT_INTERVAL", "duration", new HostsOptions().DefaultInterval, TryParseInterval,
            "Expected interval of hosts that neither declare one nor have beaten often enough to learn it (e.g. 60s, 5m)");
        var groups = List<SiteRule>("--group", "HEARTBEAT_GROUPS", "name=cidr", ',', TryParseSiteRules,
            "Hosts whose IP or peer address is in this range form a site, repeatable (e.g. office=192.168.1.0/24): "
            + "when all of a site's hosts go silent, one site-down alert replaces theirs");
        var outageWindow = Setting("--outage-window", "HEARTBEAT_OUTAGE_WINDOW", "duration", new HostsOptions().OutageWindow, TryParseWindow,
            "How long a down host's alert waits for the rest of its site (same group, --group range or peer address) to go silent too");
        var clockSkew = Setting("--clock-skew-warning", "HEARTBEAT_CLOCK_SKEW_WARNING", "duration", new HostsOptions().ClockSkewWarning, TryParseWindow,
            "Warn (a clock-skew event, a mark on the page) when a host's clock (its \"ts\" field) is off by more than this");

        var webhooks = List<string>("--webhook", "HEARTBEAT_WEBHOOKS", "spec", ' ', TryParseWebhooks,
            "Send alerts to this URL, repeatable: [FORMAT:]URL[#EVENTS], FORMAT one of json (default), slack, mattermost, discord, ntfy, gotify, teams "
            + "(detected from well-known addresses), EVENTS e.g. down,recovered (default: all)");
        var notifyExec = List<string>("--notify-exec", "HEARTBEAT_NOTIFY_EXEC", "command", '\n', TryParseCommands,
            "Run this shell command for each alert, repeatable, optionally ending in #EVENTS: the event in HEARTBEAT_* variables and as JSON on stdin");
        var notifyAttempts = Setting("--notify-max-attempts", "HEARTBEAT_NOTIFY_MAX_ATTEMPTS", "count", new NotifyOptions().MaxAttempts, TryParseAttempts,
            "Delivery attempts per alert before it is parked (shown, no longer retried)");

        var token = Secret("--token", "HEARTBEAT_TOKEN", "Every beat must carry this token (Authorization: Bearer, a \"token\" field, or ?token= on ping URLs)");
        var tokensFile = OptionalFile("--tokens", "HEARTBEAT_TOKENS_FILE", "File of 'host token' lines: a beat for a host must carry its token; reloaded when it changes");
        var readToken = Secret("--read-token", "HEARTBEAT_READ_TOKEN", "Reading (status page, API, events, metrics) needs this token (or the admin token)");
        var adminToken = Secret("--admin-token", "HEARTBEAT_ADMIN_TOKEN", "Every change but a beat (forgetting hosts, maintenance, test notifications) needs this token; without it, changes are allowed from this machine only");
        var publicUrl = Setting<Uri?>("--public-url", "HEARTBEAT_PUBLIC_URL", "url", null, TryParsePublicUrl,
            "The address people reach the page at (e.g. https://status.example.org/): the page answers to its name, and trusts forms from it");
        var allowedHosts = List<string>("--allowed-host", "HEARTBEAT_ALLOWED_HOSTS", "name", ',', TryParseHostNames,
            "Another name the page, API and metrics answer to, repeatable (*.example.org for a domain; * for any); beats come in under any name");
        var allow = List<IPNetwork>("--allow", "HEARTBEAT_ALLOW", "cidr", ',', TryParseNetworks,
            "Only these source networks may send beats or read, repeatable (e.g. 192.168.0.0/16, 2001:db8::/32)");
        var trustProxy = List<IPNetwork>("--trust-proxy", "HEARTBEAT_TRUST_PROXY", "cidr", ',', TryParseNetworks,
            "Believe X-Forwarded-For only from these proxies' networks, repeatable (never otherwise)");
        var rateLimit = Setting("--rate-limit", "HEARTBEAT_RATE_LIMIT", "per-second", new SecurityOptions().RequestsPerSecondPerAddress, TryParseRate,
            "Requests per second one source address may make, in bursts of 10x; 0 turns it off");
        var hostRateLimit = Setting("--host-rate-limit", "HEARTBEAT_HOST_RATE_LIMIT", "per-second", new SecurityOptions().BeatsPerSecondPerHost, TryParseRate,
            "Beats per second one host may send, in bursts of 10x; 0 turns it off");
        var tlsCert = OptionalFile("--tls-cert", "HEARTBEAT_TLS_CERT", "Serve HTTPS (and HTTP/2) with this PEM certificate (chain); needs --tls-key");
        var tlsKey = OptionalFile("--tls-key", "HEARTBEAT_TLS_KEY", "The PEM private key of --tls-cert");

        var command = new RootCommand(
            "Heartbeat server: receives heartbeats (POST / with a JSON body such as {\"ip\": \"192.168.1.100\"}), "
            + "appends one line per beat to the heartbeat log, tracks every host's liveness and IP, "
            + "and shows them at GET / (HTML, or JSON) and /api/v1/hosts.")
        {
            port, bind, logFile, logMaxSize, logKeep, fsync, maxBody, data, store, postgres, defaultInterval, misses, groups, outageWindow, clockSkew, webhooks, notifyExec, notifyAttempts,
            token, tokensFile, readToken, adminToken, publicUrl, allowedHosts, allow, trustProxy, rateLimit, hostRateLimit, tlsCert, tlsKey,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var options = new ServerOptions
            {
                Port = result.GetValue(port),
                Bind = result.GetValue(bind) ?? [],
                MaxBodyBytes = result.GetValue(maxBody),
                Log = new HeartbeatLogOptions
                {
                    Path = result.GetValue(logFile) ?? HeartbeatLogOptions.DefaultPath,
                    MaxSizeBytes = result.GetValue(logMaxSize),
                    Keep = result.GetValue(logKeep),
                    Fsync = result.GetValue(fsync),
                },
                Store = new StoreOptions
                {
                    Kind = result.GetValue(store),
                    Postgres = result.GetValue(postgres),
                    Path = result.GetValue(data) ?? StoreOptions.DefaultPath(),
                },
                Hosts = new HostsOptions
                {
                    DefaultInterval = result.GetValue(defaultInterval),
                    MissesBeforeDown = result.GetValue(misses),
                    SiteRules = result.GetValue(groups) ?? [],
                    OutageWindow = result.GetValue(outageWindow),
                    ClockSkewWarning = result.GetValue(clockSkew),
                },
                Notify = new NotifyOptions
                {
                    Webhooks = result.GetValue(webhooks) ?? [],
                    Commands = result.GetValue(notifyExec) ?? [],
                    MaxAttempts = result.GetValue(notifyAttempts),
                },
                Security = new SecurityOptions
                {
                    Token = result.GetValue(token),
                    TokensFile = result.GetValue(tokensFile),
                    ReadToken = result.GetValue(readToken),
                    AdminToken = result.GetValue(adminToken),
                    PublicUrl = result.GetValue(publicUrl),
                    AllowedHosts = result.GetValue(allowedHosts) ?? [],
                    Allow = result.GetValue(allow) ?? [],
                    TrustProxy = result.GetValue(trustProxy) ?? [],
                    RequestsPerSecondPerAddress = result.GetValue(rateLimit),
                    BeatsPerSecondPerHost = result.GetValue(hostRateLimit),
                    TlsCertificate = result.GetValue(tlsCert),
                    TlsKey = result.GetValue(tlsKey),
                },
            };
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

    /// <summary>
    /// Settings that cannot go together. Checked once every value is known: a parser validator sees only the command
    /// line, not the environment variables that stand in for what it leaves out.
    /// </summary>
    private static string? Contradiction(ServerOptions options) =>
        (options.Security.TlsCertificate is null) != (options.Security.TlsKey is null) ? "--tls-cert and --tls-key go together: give both, or neither."
        : options.Store.Kind == StoreKind.Postgres && options.Store.Postgres is null ? "--store postgres needs a connection string: --postgres CONNECTION, HEARTBEAT_POSTGRES or HEARTBEAT_POSTGRES_FILE."
        : null;

    private static Func<ArgumentResult, T> FromEnvironment<T>(string variable, T fallback, ValueParser<T> parse) =>
        result =>
        {
            var text = Environment.GetEnvironmentVariable(variable);
            if (string.IsNullOrWhiteSpace(text))
            {
                return fallback;
            }

            return parse(text, out var value, out var error) ? value : Fail<T>(result, $"{variable}: {error}");
        };

    private static Func<ArgumentResult, T> FromToken<T>(string name, ValueParser<T> parse) =>
        result => parse(result.Tokens[^1].Value, out var value, out var error) ? value : Fail<T>(result, $"{name}: {error}");

    private static T Fail<T>(ArgumentResult result, string error)
    {
        result.AddError(error);
        return default!;
    }

    private static bool TryParsePort(string text, out int port, out string error)
    {
        error = $"'{text}' is not a port number (0-65535; 0 picks a free port)";
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port <= IPEndPoint.MaxPort;
    }

    private static bool TryParseBindList(string text, out string[] addresses, out string error)
    {
        addresses = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var bad = addresses.FirstOrDefault(a => a != "localhost" && !IPAddress.TryParse(a, out _));
        error = $"'{bad}' is not an IP address or 'localhost'";
        return bad is null;
    }

    private static bool TryParsePath(string text, out string path, out string error)
    {
        path = text;
        error = "the log file path is empty";
        return !string.IsNullOrWhiteSpace(text);
    }

    private static bool TryParseSize(string text, out long bytes, out string error)
    {
        error = $"'{text}' is not a size (e.g. 0, 1048576, 64KiB, 100MiB, 1GiB)";
        return ByteSize.TryParse(text, out bytes);
    }

    private static bool TryParseBodySize(string text, out long bytes, out string error)
    {
        error = $"'{text}' is not a body size from 1B to 1GiB (e.g. 65536, 64KiB, 1MiB)";
        return ByteSize.TryParse(text, out bytes) && bytes is > 0 and <= 1L << 30;
    }

    private static bool TryParseKeep(string text, out int count, out string error)
    {
        error = $"'{text}' is not a count of rotated files (0-1000)";
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out count) && count <= 1000;
    }

    private static bool TryParseStore(string text, out StoreKind kind, out string error)
    {
        error = $"'{text}' is not a store (sqlite, memory or postgres)";
        return Enum.TryParse(text, ignoreCase: true, out kind) && Enum.IsDefined(kind);
    }

    private static bool TryParseInterval(string text, out TimeSpan interval, out string error)
    {
        error = $"'{text}' is not an interval from 1s to 1d (e.g. 30s, 5m, 1h)";
        return Durations.TryParse(text, out interval) && interval >= Liveness.MinimumInterval && interval <= Liveness.MaximumInterval;
    }

    private static bool TryParseWindow(string text, out TimeSpan window, out string error)
    {
        error = $"'{text}' is not a duration from 1s to 1d (e.g. 30s, 2m)";
        return Durations.TryParse(text, out window) && window >= TimeSpan.FromSeconds(1) && window <= TimeSpan.FromDays(1);
    }

    private static bool TryParseSiteRules(string text, out SiteRule[] rules, out string error)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        rules = new SiteRule[parts.Length];
        error = string.Empty;
        for (var i = 0; i < parts.Length; i++)
        {
            if (!SiteRule.TryParse(parts[i], out var rule, out var problem))
            {
                error = problem;
                return false;
            }

            rules[i] = rule;
        }

        return true;
    }

    private static bool TryParseMisses(string text, out int count, out string error)
    {
        error = $"'{text}' is not a number of missed intervals (1-{HeartbeatRules.MaxMissesBeforeDown})";
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out count) && count is >= 1 and <= HeartbeatRules.MaxMissesBeforeDown;
    }

    private static bool TryParseWebhooks(string text, out string[] specs, out string error)
    {
        specs = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        error = string.Empty;
        foreach (var spec in specs)
        {
            if (!TargetSpec.TryParseWebhook(spec, out _, out _, out _, out error))
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryParseCommands(string text, out string[] commands, out string error)
    {
        commands = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        error = string.Empty;
        foreach (var command in commands)
        {
            if (!TargetSpec.TryParseCommand(command, out _, out _, out error))
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryParseAttempts(string text, out int attempts, out string error)
    {
        error = $"'{text}' is not a number of attempts (1-100)";
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out attempts) && attempts is >= 1 and <= 100;
    }

    /// <summary>An option that can also come from an environment variable, parsed and checked the same way from both.</summary>
    private static Option<T> Setting<T>(string name, string variable, string helpName, T fallback, ValueParser<T> parse, string description) => new(name)
    {
        Description = $"{description} [env: {variable}]",
        HelpName = helpName,
        DefaultValueFactory = FromEnvironment(variable, fallback, parse),
        CustomParser = FromToken(name, parse),
    };

    /// <summary>A repeatable option; its environment variable holds the values joined by <paramref name="separator"/>.</summary>
    private static Option<T[]> List<T>(string name, string variable, string helpName, char separator, ValueParser<T[]> parse, string description) => new(name)
    {
        Description = $"{description} [env: {variable}{separator switch { ',' => ", comma-separated", ' ' => ", space-separated", _ => ", one per line" }}]",
        HelpName = helpName,
        DefaultValueFactory = FromEnvironment<T[]>(variable, [], parse),
        CustomParser = result => parse(string.Join(separator, result.Tokens.Select(t => t.Value)), out var value, out var error)
            ? value
            : Fail<T[]>(result, $"{name}: {error}"),
    };

    private static Option<string?> OptionalFile(string name, string variable, string description) => new(name)
    {
        Description = $"{description} [env: {variable}]",
        HelpName = "file",
        DefaultValueFactory = _ => NonEmpty(Environment.GetEnvironmentVariable(variable)),
    };

    /// <summary>
    /// A secret: from the command line (visible to every user in ps), HEARTBEAT_X, a file named by HEARTBEAT_X_FILE (the
    /// containers' convention), or the systemd credential named like the option (LoadCredential=admin-token:/path).
    /// </summary>
    private static Option<string?> Secret(string name, string variable, string description)
    {
        var credential = name.TrimStart('-');
        return new Option<string?>(name)
        {
            Description = $"{description}; prefer the environment, a file or a systemd credential, as command lines show in ps "
                + $"[env: {variable}, or {variable}_FILE; credential: {credential}]",
            HelpName = "secret",
            DefaultValueFactory = result => NonEmpty(Environment.GetEnvironmentVariable(variable)) ?? SecretFile(result, $"{variable}_FILE", credential),
        };
    }

    private static string? SecretFile(ArgumentResult result, string variable, string credential)
    {
        var path = NonEmpty(Environment.GetEnvironmentVariable(variable));
        var source = variable;
        if (path is null && NonEmpty(Environment.GetEnvironmentVariable("CREDENTIALS_DIRECTORY")) is { } credentials && File.Exists(Path.Combine(credentials, credential)))
        {
            (path, source) = (Path.Combine(credentials, credential), $"the systemd credential '{credential}'");
        }

        if (path is null)
        {
            return null;
        }

        try
        {
            // One secret, perhaps with the newline an editor or echo leaves at the end.
            return NonEmpty(File.ReadAllText(path).Trim()) ?? Fail<string?>(result, $"{source}: '{path}' is empty");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail<string?>(result, $"{source}: cannot read '{path}': {e.Message}");
        }
    }

    private static bool TryParsePublicUrl(string text, out Uri? url, out string error)
    {
        error = $"'{text}' is not an http:// or https:// address (e.g. https://status.example.org/)";
        return Uri.TryCreate(text, UriKind.Absolute, out url) && url.Scheme is "http" or "https" && url.UserInfo.Length == 0;
    }

    private static bool TryParseHostNames(string text, out string[] names, out string error)
    {
        names = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var bad = names.FirstOrDefault(n => n != "*" && Uri.CheckHostName(n.StartsWith("*.", StringComparison.Ordinal) ? n[2..] : n) != UriHostNameType.Dns);
        error = $"'{bad}' is not a host name (e.g. status.example.org, *.example.org)";
        return bad is null;
    }

    private static string? NonEmpty(string? text) => string.IsNullOrWhiteSpace(text) ? null : text;

    private static bool TryParseNetworks(string text, out IPNetwork[] networks, out string error)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        networks = new IPNetwork[parts.Length];
        error = string.Empty;
        for (var i = 0; i < parts.Length; i++)
        {
            if (IPNetwork.TryParse(parts[i], out networks[i]))
            {
                continue;
            }

            if (IPAddress.TryParse(parts[i], out var address))
            {
                networks[i] = new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
                continue;
            }

            error = $"'{parts[i]}' is not a network (e.g. 192.168.0.0/16, 10.1.2.3, 2001:db8::/32)";
            return false;
        }

        return true;
    }

    private static bool TryParseRate(string text, out int perSecond, out string error)
    {
        error = $"'{text}' is not a rate (0-1000000 per second)";
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out perSecond) && perSecond <= 1_000_000;
    }

    private static bool TryParseBool(string text, out bool value, out string error)
    {
        error = $"'{text}' is not a boolean (true/false, 1/0, yes/no)";
        switch (text.Trim().ToUpperInvariant())
        {
            case "1" or "TRUE" or "YES" or "ON":
                value = true;
                return true;
            case "0" or "FALSE" or "NO" or "OFF":
                value = false;
                return true;
            default:
                value = false;
                return false;
        }
    }
}
