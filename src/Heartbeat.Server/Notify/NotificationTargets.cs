using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Heartbeat.Server.Notify;

// Somewhere notifications go: a webhook or a command. Delivery either succeeds or throws.
internal interface INotificationTarget
{
    // Stable across restarts (the outbox refers to it) and free of secrets.
    string Key { get; }

    // For the health view and logs: never the full URL, which often carries a token.
    string DisplayName { get; }

    // Event names this target wants; empty means all.
    IReadOnlySet<string> Events { get; }

    Task DeliverAsync(Notification notification, CancellationToken cancellationToken);
}

internal sealed class WebhookTarget(WebhookSpec webhook, HttpClient http) : INotificationTarget
{
    public string Key { get; } = "webhook-" + Fingerprint($"{webhook.Format}|{webhook.Url}");

    public string DisplayName { get; } = $"{webhook.Format.ToString().ToLowerInvariant()} {webhook.Url.Scheme}://{webhook.Url.Authority}/…";

    public IReadOnlySet<string> Events => webhook.Events;

    public WebhookFormat Format => webhook.Format;

    public async Task DeliverAsync(Notification notification, CancellationToken cancellationToken)
    {
        using var request = WebhookRequests.Create(webhook.Format, webhook.Url, notification);
        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new NotificationFailedException($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
        }
    }

    internal static string Fingerprint(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
}

// Runs a command with /bin/sh for each notification: the fields as HEARTBEAT_* environment variables and
// the JSON notification on standard input. Exit code 0 is success; a command past its timeout is killed.
internal sealed class ExecTarget(CommandSpec command, TimeSpan timeout) : INotificationTarget
{
    public string Key { get; } = "exec-" + WebhookTarget.Fingerprint(command.Command);

    public string DisplayName { get; } = $"exec {command.Command.Split(' ', 2)[0]}";

    public IReadOnlySet<string> Events => command.Events;

    public async Task DeliverAsync(Notification notification, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("/bin/sh")
        {
            ArgumentList = { "-c", command.Command },
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["HEARTBEAT_EVENT"] = notification.Event;
        start.Environment["HEARTBEAT_EVENT_ID"] = notification.EventId;
        start.Environment["HEARTBEAT_HOST"] = notification.Host;
        start.Environment["HEARTBEAT_STATE"] = notification.State;
        start.Environment["HEARTBEAT_IP"] = notification.Ip;
        start.Environment["HEARTBEAT_PREVIOUS_IP"] = notification.PreviousIp ?? string.Empty;
        start.Environment["HEARTBEAT_LAST_SEEN"] = notification.LastSeen.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["HEARTBEAT_EXPECTED_INTERVAL"] = notification.ExpectedIntervalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["HEARTBEAT_SUMMARY"] = notification.Summary;

        using var process = Process.Start(start) ?? throw new NotificationFailedException("could not start /bin/sh");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var output = process.StandardOutput.ReadToEndAsync(deadline.Token);
        var error = process.StandardError.ReadToEndAsync(deadline.Token);
        try
        {
            await process.StandardInput.WriteAsync(notification.ToJson().AsMemory(), deadline.Token);
            process.StandardInput.Close();
            await process.WaitForExitAsync(deadline.Token);
            await Task.WhenAll(output, error);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            throw new NotificationFailedException($"timed out after {timeout.TotalSeconds:0}s");
        }
        catch (IOException)
        {
            // The command exited without reading its input: its exit code decides.
            await process.WaitForExitAsync(deadline.Token);
        }

        if (process.ExitCode != 0)
        {
            var said = error.IsCompletedSuccessfully ? error.Result.Trim() : string.Empty;
            throw new NotificationFailedException($"exit code {process.ExitCode}{(said.Length > 0 ? ": " + said[..Math.Min(said.Length, 200)] : string.Empty)}");
        }
    }
}

// A delivery attempt failed in a way worth retrying; the message says how, for the health view.
internal sealed class NotificationFailedException(string message) : Exception(message);
