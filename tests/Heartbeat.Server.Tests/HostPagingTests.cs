using System.Net;
using System.Text;
using System.Text.Json;
using Heartbeat.Server.Tests.Infrastructure;

namespace Heartbeat.Server.Tests;

/// <summary>Paging through the host list with a cursor, trouble first, against the real server.</summary>
public sealed class HostPagingTests
{
    [Fact]
    public async Task PagingWithACursorListsEveryHostOnceInTroubleFirstOrderWhileHostsChangeState()
    {
        await using var server = await InProcessServer.StartAsync(InProcessServer.WithoutRateLimits);
        var failing = Enumerable.Range(0, 10).Select(i => $"fail-{i:D2}").ToList();
        var up = Enumerable.Range(0, 20).Select(i => $"up-{i:D2}").ToList();
        foreach (var id in failing)
        {
            await server.BeatAsync($$"""{"host": "{{id}}", "status": "fail"}""");
        }

        foreach (var id in up)
        {
            await server.BeatAsync($$"""{"host": "{{id}}"}""");
        }

        var seen = new List<string>();
        var page = await server.GetJsonAsync("/api/v1/hosts?limit=7");
        Assert.Equal(30, page.GetProperty("total").GetInt32());
        seen.AddRange(Ids(page));
        var flips = 0;
        while (page.TryGetProperty("nextCursor", out var cursor))
        {
            // Between pages: a host already shown recovers (it moves after the cursor), one not shown yet starts
            // failing (it moves before it), and a new host appears.
            await server.BeatAsync($$"""{"host": "{{failing[flips]}}"}""");
            await server.BeatAsync($$"""{"host": "{{up[^(flips + 1)]}}", "status": "fail"}""");
            await server.BeatAsync($$"""{"host": "late-comer-{{flips}}"}""");
            flips++;

            page = await server.GetJsonAsync($"/api/v1/hosts?limit=7&cursor={Uri.EscapeDataString(cursor.GetString()!)}");
            seen.AddRange(Ids(page));
        }

        Assert.Equal([.. failing, .. up], seen); // as the list stood at the first page, each host once
        Assert.Equal(4, flips);
        var counts = page.GetProperty("counts");
        Assert.Equal(10, counts.GetProperty("failing").GetInt32()); // 4 recovered, 4 started failing
        Assert.Equal(24, counts.GetProperty("up").GetInt32()); // 20 - 4 + 4 + the 4 new ones
        Assert.Equal(34, (await server.GetJsonAsync("/api/v1/hosts?limit=1")).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task StateAndSearchFiltersPageByCursorAndTheLastPageHasNoCursor()
    {
        await using var server = await InProcessServer.StartAsync(InProcessServer.WithoutRateLimits);
        for (var i = 0; i < 12; i++)
        {
            await server.BeatAsync($$"""{"host": "{{(i % 2 == 0 ? "web" : "db")}}-{{i:D2}}", "status": "{{(i < 6 ? "fail" : "up")}}"}""");
        }

        var web = await PageThroughAsync(server, "/api/v1/hosts?q=WEB&limit=2");
        Assert.Equal(["web-00", "web-02", "web-04", "web-06", "web-08", "web-10"], web);
        var failing = await PageThroughAsync(server, "/api/v1/hosts?state=failing&limit=4");
        Assert.Equal(["db-01", "db-03", "db-05", "web-00", "web-02", "web-04"], failing);

        var last = await server.GetJsonAsync("/api/v1/hosts?state=up&limit=6");
        Assert.Equal(6, last.GetProperty("total").GetInt32());
        Assert.False(last.TryGetProperty("nextCursor", out _));
        Assert.False((await server.GetJsonAsync("/api/v1/hosts?q=web&limit=1")).TryGetProperty("total", out _)); // a search does not count
    }

    [Theory]
    [InlineData("not a cursor!")]
    [InlineData("bm90IGEgY3Vyc29y")] // base64url of "not a cursor"
    [InlineData("MS45LndlYg")] // "1.9.web": no such rank
    [InlineData("MS4wLg")] // "1.0.": no host
    public async Task AnInvalidCursorGetsAProblemNamingTheCursor(string cursor)
    {
        await using var server = await InProcessServer.StartAsync();
        await server.BeatAsync("""{"host": "web"}""");

        using var response = await server.Client.GetAsync($"/api/v1/hosts?cursor={Uri.EscapeDataString(cursor)}", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("'cursor'", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnOldCursorStillPagesOnFromWhereItEnded()
    {
        await using var server = await InProcessServer.StartAsync();
        var afterA = Convert.ToBase64String(Encoding.UTF8.GetBytes("123456.5.a")).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        foreach (var id in new[] { "a", "b", "c" })
        {
            await server.BeatAsync($$"""{"host": "{{id}}"}""");
        }

        Assert.Equal(["b", "c"], Ids(await server.GetJsonAsync($"/api/v1/hosts?cursor={afterA}")));
    }

    [Fact]
    public async Task TheStatusPageShowsTheFirstPageTroubleFirstAndSaysHowManyMoreThereAre()
    {
        await using var server = await InProcessServer.StartAsync(InProcessServer.WithoutRateLimits);
        await Parallel.ForEachAsync(Enumerable.Range(0, 105), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            using var response = await server.Client.PostAsync("/", new StringContent($$"""{"host": "node-{{i:D3}}"}"""), ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        });
        await server.BeatAsync("""{"host": "node-104", "status": "fail"}""");

        var html = await server.Client.GetStringAsync("/", TestContext.Current.CancellationToken);
        var json = (await server.GetStatusJsonAsync()).GetProperty("hosts");

        Assert.Contains("100 of 105 shown, 5 more", html, StringComparison.Ordinal);
        Assert.Equal("node-104", json.GetProperty("hosts")[0].GetProperty("id").GetString());
        Assert.Equal(100, json.GetProperty("hosts").GetArrayLength());
        Assert.True(json.TryGetProperty("nextCursor", out _));
        Assert.True(html.IndexOf("data-host=\"node-104\"", StringComparison.Ordinal) < html.IndexOf("data-host=\"node-000\"", StringComparison.Ordinal));
    }

    private static async Task<List<string>> PageThroughAsync(InProcessServer server, string path)
    {
        var ids = new List<string>();
        var page = await server.GetJsonAsync(path);
        ids.AddRange(Ids(page));
        for (var pages = 0; page.TryGetProperty("nextCursor", out var cursor) && pages < 100; pages++)
        {
            page = await server.GetJsonAsync($"{path}&cursor={Uri.EscapeDataString(cursor.GetString()!)}");
            ids.AddRange(Ids(page));
        }

        return ids;
    }

    private static IEnumerable<string> Ids(JsonElement page) =>
        [.. page.GetProperty("hosts").EnumerateArray().Select(h => h.GetProperty("id").GetString()!)];
}
