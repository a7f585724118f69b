using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace Heartbeat.Server.Tests.Infrastructure;

/// <summary>The JSON API as a client sees it.</summary>
internal static class HostApi
{
    public static async Task BeatAsync(this InProcessServer server, string json)
    {
        using var response = await server.PostAsync(json);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public static async Task<JsonElement?> FindHostAsync(this InProcessServer server, string id)
    {
        using var response = await server.Client.GetAsync($"/api/v1/hosts/{Uri.EscapeDataString(id)}", TestContext.Current.CancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await ReadJsonAsync(response);
    }

    public static async Task<JsonElement> GetHostAsync(this InProcessServer server, string id) =>
        await server.FindHostAsync(id) ?? throw new InvalidOperationException($"No host '{id}'.");

    public static async Task<string> StateOfAsync(this InProcessServer server, string id) =>
        (await server.GetHostAsync(id)).GetProperty("state").GetString()!;

    public static async Task<JsonElement> GetJsonAsync(this InProcessServer server, string path)
    {
        using var response = await server.Client.GetAsync(path, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await ReadJsonAsync(response);
    }

    /// <summary>GET / as JSON, as a script asking with Accept: application/json gets it.</summary>
    public static async Task<JsonElement> GetStatusJsonAsync(this InProcessServer server)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Accept.ParseAdd("application/json");
        using var response = await server.Client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return await ReadJsonAsync(response);
    }

    /// <summary>Waits until the host is in the state, asking the API as a client would.</summary>
    public static async Task WaitForStateAsync(this InProcessServer server, string id, string state, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        string? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = (await server.FindHostAsync(id))?.GetProperty("state").GetString();
            if (last == state)
            {
                return;
            }

            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        throw new TimeoutException($"Host '{id}' stayed '{last}' instead of turning '{state}'.");
    }

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response)
    {
        var json = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return JsonDocument.Parse(json).RootElement.Clone();
    }

    /// <summary>
    /// Advances the clock and waits until a sweep has judged every host as of then: a canary that declares a one-second
    /// interval beats just before, and is down once a sweep after the advance has run.
    /// </summary>
    public static async Task SweptAsync(this InProcessServer server, FakeTimeProvider time, TimeSpan? advance = null)
    {
        var by = advance ?? TimeSpan.FromSeconds(2);
        Assert.True(by >= TimeSpan.FromSeconds(2), "the canary needs two seconds to go down");
        await server.BeatAsync("""{"host": "canary", "interval": 1}""");
        time.Advance(by);
        await server.WaitForStateAsync("canary", "down");
    }

    /// <summary>
    /// A host with a one-second interval goes down and comes back <paramref name="cycles"/> times on the fake clock,
    /// then goes down and stays down; a second more lets the store flush queue what that raised.
    /// </summary>
    public static async Task FlapAsync(this InProcessServer server, FakeTimeProvider time, string host, int cycles)
    {
        var beat = $$"""{"host": "{{host}}", "interval": 1}""";
        await server.BeatAsync(beat);
        for (var cycle = 0; cycle < cycles; cycle++)
        {
            time.Advance(TimeSpan.FromSeconds(3));
            await server.WaitForStateAsync(host, "down");
            await server.BeatAsync(beat);
        }

        time.Advance(TimeSpan.FromSeconds(3));
        await server.WaitForStateAsync(host, "down");
        time.Advance(TimeSpan.FromSeconds(1));
    }
}
