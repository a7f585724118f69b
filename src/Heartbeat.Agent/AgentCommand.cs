using System.CommandLine;
using System.CommandLine.Parsing;
using System.Net;
using Heartbeat.Protocol;

namespace Heartbeat.Agent;

// The command line: heartbeat send|run|maintenance|install|uninstall.
internal static class AgentCommand
{
    public const string Name = "heartbeat";

    // Exit code for a command line that cannot be used.
    public const int UsageError = 2;

    public static async Task<int> InvokeAsync(string[] args)
    {
        var parsed = Create().Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
            {
                await Console.Error.WriteLineAsync($"{Name}: {error.Message}");
            }

            await Console.Error.WriteLineAsync($"Try '{Name} --help' for the commands and their options.");
            return UsageError;
        }

        return await parsed.InvokeAsync();
    }

    internal static RootCommand Create()
    {
        var server = new Argument<Uri>("server")
        {
            Description = "The heartbeat server: host:port (as the seed's installer takes it) or an http(s) URL",
            CustomParser = result => ServerAddress.TryParse(result.Tokens[0].Value, out var uri, out var error) ? uri : Fail<Uri>(result, error),
        };
        var host = new Option<string>("--host")
        {
            Description = "The name this machine reports (default: its hostname)",
            DefaultValueFactory = _ => Environment.MachineName.ToLowerInvariant(),
            Validators = { r => { if (!HeartbeatRules.IsValidHost(r.GetValueOrDefault<string>() ?? string.Empty)) { r.AddError($"--host: must be {HeartbeatRules.HostRule}"); } } },
        };
        var every = new Option<TimeSpan>("--every")
        {
            Description = "Beat interval, also declared to the server as what to expect (e.g. 30s, 5m, 1h)",
            HelpName = "duration",
            DefaultValueFactory = _ => TimeSpan.FromSeconds(60),
            CustomParser = result => Durations.TryParse(result.Tokens[0].Value, out var interval) && HeartbeatRules.IsValidInterval(interval.TotalSeconds) ? interval
                : Fail<TimeSpan>(result, $"--every: '{result.Tokens[0].Value}' is not an interval from 1s to 1d (e.g. 30s, 5m, 1h)"),
        };
        var ip = new Option<IPAddress?>("--ip")
        {
            Description = "Report this address instead of the one of the interface that routes to the server",
            HelpName = "address",
            CustomParser = result => IPAddress.TryParse(result.Tokens[0].Value, out var address) ? address
                : Fail<IPAddress?>(result, $"--ip: '{result.Tokens[0].Value}' is not an IP address"),
        };
        var ipFrom = new Option<Uri?>("--ip-from")
        {
            Description = "Report the public address that this plain-text echo service answers (a URL you choose)",
            HelpName = "url",
            CustomParser = result => Uri.TryCreate(result.Tokens[0].Value, UriKind.Absolute, out var url) && url.Scheme is "http" or "https" ? url
                : Fail<Uri?>(result, $"--ip-from: '{result.Tokens[0].Value}' is not an http(s) URL"),
        };
        var token = new Option<string?>("--token")
        {
            Description = "Token for servers that want one, sent as 'Authorization: Bearer'; prefer HEARTBEAT_TOKEN, as command lines show in ps [env: HEARTBEAT_TOKEN]",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HEARTBEAT_TOKEN") is { Length: > 0 } value ? value : null,
        };
        var status = new Option<string>("--status")
        {
            Description = "What to report: up, or fail (something is wrong here; see --msg)",
            DefaultValueFactory = _ => "up",
        };
        status.AcceptOnlyFromAmong("up", "fail");
        var message = new Option<string?>("--msg")
        {
            Description = $"A short note sent with the beat (at most {HeartbeatRules.MaxMessageBytes} bytes)",
            Validators = { r => { if (r.GetValueOrDefault<string?>() is { } m && (HeartbeatRules.HasUnsafeCharacters(m) || System.Text.Encoding.UTF8.GetByteCount(m) > HeartbeatRules.MaxMessageBytes)) { r.AddError($"--msg: at most {HeartbeatRules.MaxMessageBytes} bytes, without control characters or line breaks"); } } },
        };
        var misses = new Option<int?>("--misses")
        {
            Description = $"Intervals this machine may miss before the server counts it down (1-{HeartbeatRules.MaxMissesBeforeDown}; default: the server's setting)",
            HelpName = "count",
            Validators = { r => { if (r.GetValueOrDefault<int?>() is < 1 or > HeartbeatRules.MaxMissesBeforeDown) { r.AddError($"--misses: must be from 1 to {HeartbeatRules.MaxMissesBeforeDown}"); } } },
        };
        var group = new Option<string?>("--group")
        {
            Description = "The site this machine belongs to: when all of a site's machines go silent, the server sends one site-down alert for them",
            HelpName = "name",
            Validators = { r => { if (r.GetValueOrDefault<string?>() is { } g && !HeartbeatRules.IsValidLabel(g, HeartbeatRules.MaxGroupLength)) { r.AddError($"--group: must be 1-{HeartbeatRules.MaxGroupLength} letters, digits, '.', '-', '_' or ':'"); } } },
        };
        var window = new Option<TimeSpan>("--for")
        {
            Description = "How long to pause this machine's alerts (e.g. 30m, 2h; 0 ends a window early)",
            HelpName = "duration",
            Required = true,
            CustomParser = result => Durations.TryParse(result.Tokens[0].Value, out var duration) && duration.TotalSeconds <= HeartbeatRules.MaxMaintenanceSeconds ? duration
                : Fail<TimeSpan>(result, $"--for: '{result.Tokens[0].Value}' is not a duration from 0 to 30d (e.g. 30m, 2h)"),
        };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the files it would write and the commands it would run; change nothing" };
        var prefix = new Option<string?>("--prefix")
        {
            Description = "Copy the agent to DIR/bin/heartbeat and run it from there (default: /usr/local as root, else ~/.local)",
            HelpName = "dir",
        };
        var root = new Option<string?>("--root")
        {
            Description = "Write every file under DIR (a staging root for a package or an image) and run no service manager command",
            HelpName = "dir",
        };
        var init = new Option<InitSystem>("--init")
        {
            Description = "Install for this service manager (default: launchd on macOS, systemd elsewhere)",
            DefaultValueFactory = _ => Installer.Detect(),
        };

        BeatSettings Settings(ParseResult r, bool withStatus) => new(
            r.GetRequiredValue(server), r.GetValue(host)!, r.GetValue(every), r.GetValue(ip)?.ToString(), r.GetValue(ipFrom),
            withStatus && r.GetValue(status) == "fail", withStatus ? r.GetValue(message) : null, r.GetValue(token), r.GetValue(misses), r.GetValue(group));

        var send = new Command("send", "Send one heartbeat; exit 0 when the server took it")
        {
            server, host, every, ip, ipFrom, token, status, message, misses, group,
        };
        send.SetAction((r, cancellationToken) => SendOnceAsync(Settings(r, withStatus: true), cancellationToken));

        var maintenance = new Command("maintenance", "Pause this machine's alerts for a while (a reboot, an upgrade); if it is not back when the window ends, it is down then")
        {
            server, window, host, every, ip, ipFrom, token, misses, group,
        };
        maintenance.SetAction((r, cancellationToken) => SendOnceAsync(Settings(r, withStatus: false) with { Maintenance = r.GetValue(window) }, cancellationToken));

        var run = new Command("run", "Send a heartbeat every interval until stopped (SIGTERM or Ctrl+C), retrying with backoff when the server is away")
        {
            server, host, every, ip, ipFrom, token, misses, group,
        };
        run.SetAction(async (r, cancellationToken) =>
        {
            using var http = NewHttpClient();
            await new BeatLoop(new BeatSender(http, Settings(r, withStatus: false)), r.GetValue(every), Console.Error, TimeProvider.System)
                .RunAsync(cancellationToken);
            return 0;
        });

        var install = new Command("install", "Copy the agent to PREFIX/bin, install 'heartbeat run SERVER' there to start at boot (systemd or launchd) and start it now")
        {
            server, host, every, ipFrom, token, misses, group, dryRun, init, prefix, root,
        };
        install.SetAction(async (r, cancellationToken) =>
        {
            var settings = Settings(r, withStatus: false);
            List<string> arguments = ["run", settings.Server.ToString(), "--every", $"{(int)settings.Interval.TotalSeconds}s"];

            // Without --host the service reports the hostname it has at each start, as 'run' does.
            if (r.GetResult(host) is { Implicit: false })
            {
                arguments.AddRange(["--host", settings.Host]);
            }

            if (settings.IpFrom is { } echo)
            {
                arguments.AddRange(["--ip-from", echo.ToString()]);
            }

            if (settings.Misses is { } count)
            {
                arguments.AddRange(["--misses", count.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            }

            if (settings.Group is { } site)
            {
                arguments.AddRange(["--group", site]);
            }

            var plan = Installer.PlanInstall(Target(r), Self(), arguments, settings.Token);
            return await InstallSteps.ApplyAsync(plan, r.GetValue(dryRun), Console.Out, Console.Error, cancellationToken);
        });

        var uninstall = new Command("uninstall", "Stop the installed agent and remove what install wrote: the service, its token file and PREFIX/bin/heartbeat")
        {
            dryRun, init, prefix, root,
        };
        uninstall.SetAction((r, cancellationToken) =>
            InstallSteps.ApplyAsync(Installer.PlanUninstall(Target(r)), r.GetValue(dryRun), Console.Out, Console.Error, cancellationToken));

        InstallTarget Target(ParseResult r) => new(
            r.GetValue(init), IsRoot(), Home(),
            Path.GetFullPath(r.GetValue(prefix) ?? InstallTarget.DefaultPrefix(IsRoot(), Home())),
            r.GetValue(root) is { } staging ? Path.GetFullPath(staging) : null);

        return new RootCommand("Heartbeat agent: tells a heartbeat server, now and then, that this machine is alive and which IP it has.")
        {
            send, run, maintenance, install, uninstall,
        };
    }

    // One beat; exit 0 when the server took it, else 1 with the reason on stderr.
    private static async Task<int> SendOnceAsync(BeatSettings settings, CancellationToken cancellationToken)
    {
        using var http = NewHttpClient();
        var error = await new BeatSender(http, settings).SendAsync(cancellationToken);
        if (error is null)
        {
            return 0;
        }

        await Console.Error.WriteLineAsync($"{Name}: {error}");
        return 1;
    }

    private static HttpClient NewHttpClient() => new() { Timeout = TimeSpan.FromSeconds(15) };

    // This program as one file to copy (a single-file or NativeAOT build), or null when it runs from a build folder
    // (heartbeat.dll beside it, or through 'dotnet').
    private static string? Self()
    {
        var process = Environment.ProcessPath;
        return process is null || Path.GetFileNameWithoutExtension(process) == "dotnet"
            || File.Exists(Path.Combine(AppContext.BaseDirectory, $"{Name}.dll"))
            ? null
            : process;
    }

    private static bool IsRoot() => Environment.IsPrivilegedProcess;

    private static string Home() => Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    private static T Fail<T>(ArgumentResult result, string error)
    {
        result.AddError(error);
        return default!;
    }
}
