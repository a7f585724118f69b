namespace Heartbeat.Agent;

// Where beats go: "host:port" as the seed's installer takes it, or a full http(s) URL.
internal static class ServerAddress
{
    public static bool TryParse(string text, out Uri server, out string error)
    {
        var candidate = text.Contains("://", StringComparison.Ordinal) ? text : $"http://{text}";
        if (Uri.TryCreate(candidate, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https" && parsed.Host.Length > 0)
        {
            server = new UriBuilder(parsed) { Path = parsed.AbsolutePath.TrimEnd('/') + "/" }.Uri;
            error = string.Empty;
            return true;
        }

        server = null!;
        error = $"'{text}' is not a server address (e.g. localhost:7777, http://monitor:7777, https://monitor.example.org)";
        return false;
    }
}
