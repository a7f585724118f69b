using Microsoft.AspNetCore.Http;

namespace Heartbeat.Agent.Tests;

/// <summary>A "what is my IP" echo service on 127.0.0.1 that answers the same text to every request.</summary>
internal static class PlainTextServer
{
    public static Task<LoopbackHttpServer> StartAsync(string answer) =>
        LoopbackHttpServer.StartAsync(context => context.Response.WriteAsync(answer));
}
