namespace Heartbeat.Server.Notify;

internal static class WebhookClient
{
    // The HttpClient webhooks go out on, with a fresh connection for every attempt. SocketsHttpHandler keeps a
    // connection open after an HTTP/1.0 answer that has a Content-Length (Python's http.server sends those, then
    // closes), even when the request said "Connection: close"; the next alert then went out on a dead connection
    // and failed ("The response ended prematurely"), for about one in five alerts. Any keep-alive receiver can
    // close an idle connection just as an alert goes out, too. Alerts are rare: a handshake each costs nothing.
    public static IServiceCollection AddWebhookClient(this IServiceCollection services)
    {
        services.AddHttpClient(nameof(Notifiers)).UseSocketsHttpHandler((handler, _) => handler.PooledConnectionLifetime = TimeSpan.Zero);
        return services;
    }
}
