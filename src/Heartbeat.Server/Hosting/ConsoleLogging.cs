namespace Heartbeat.Server.Hosting;

internal static class ConsoleLogging
{
    // Diagnostics (not heartbeats) go to the console, one line each, so journald and docker logs read well.
    // The framework's start-up chatter is left out; the server says where it listens itself.
    public static ILoggingBuilder UseServerConsole(this ILoggingBuilder logging) => logging
        .AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "yyyy-MM-dd HH:mm:ss ";
        })
        .AddFilter("Microsoft", LogLevel.Warning)
        // Its lines are per request (start, finish), and while it may log at all, every request gets an Activity and a
        // log scope: a cost on every beat for lines never shown. Errors in requests are logged by Kestrel and the
        // exception handler.
        .AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None)
        // HttpClient logs every request with its full URL, and webhook URLs carry tokens: never log them.
        .AddFilter("System.Net.Http.HttpClient", LogLevel.None)
        // What fails says so itself, once (the log writer, the store flusher); /healthz polled every few seconds
        // must not repeat it as an error each time.
        .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.Critical)
        // Session keys are meant to live in memory only (Security/Access.cs); a service user without a home would
        // otherwise get three warnings at every start saying so.
        .AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error)
        // A failed start is reported as one clear line by ServerRunner, not as a stack trace ("Hosting failed
        // to start" is an error); a background service that crashes still shows, as the critical line that follows.
        .AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
}
