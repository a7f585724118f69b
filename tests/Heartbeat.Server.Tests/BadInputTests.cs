using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Heartbeat.Server.Tests.Infrastructure;

namespace Heartbeat.Server.Tests;

/// <summary>Bad input gets a 4xx problem+json that says what is wrong, and leaves no trace in the log.</summary>
public sealed class BadInputTests
{
    public static TheoryData<string, string?> InvalidBodies => new()
    {
        // body, the field the problem names (null: the body as a whole)
        { "{\"ip\": ", null },
        { "not json", null },
        { "{\"ip\": \"1.2.3.4\",}", null },
        { "[{\"ip\": \"1.2.3.4\"}]", null },
        { "\"1.2.3.4\"", null },
        { "42", null },
        { "null", null },
        { "{\"ip\": \"1.2.3.4\"} {\"ip\": \"5.6.7.8\"}", null },
        { "{\"ip\": \"1.2.3.4\"} trailing", null },
        { "{\"ip\": 192168}", "ip" },
        { "{\"ip\": [\"1.2.3.4\"]}", "ip" },
        { "{\"ip\": \"1.2.3\"}", "ip" },
        { "{\"ip\": \"999.1.1.1\"}", "ip" },
        { "{\"ip\": \"010.0.0.1\"}", "ip" },
        { "{\"ip\": \"0x7f.0.0.1\"}", "ip" },
        { "{\"ip\": \"localhost\"}", "ip" },
        { "{\"ip\": \"\"}", "ip" },
        { "{\"ip\": \"1.2.3.4\", \"ip\": \"5.6.7.8\"}", "ip" },
        { "{\"ip\": \"1.2.3.4\\n2026-01-01 00:00:00 - Received heartbeat - From: 6.6.6.6, Reported IP: 6.6.6.6\"}", "ip" },
        { "{\"host\": \"web 1\"}", "host" },
        { "{\"host\": \"<script>alert(1)</script>\"}", "host" },
        { "{\"host\": \"web1\\r\\nForged\"}", "host" },
        { "{\"host\": \"\"}", "host" },
        { "{\"host\": \"" + new string('a', 254) + "\"}", "host" },
        { "{\"host\": 7}", "host" },
        { "{\"interval\": \"60\"}", "interval" },
        { "{\"interval\": 0}", "interval" },
        { "{\"interval\": -5}", "interval" },
        { "{\"interval\": 86401}", "interval" },
        { "{\"status\": \"down\"}", "status" },
        { "{\"status\": true}", "status" },
        { "{\"msg\": \"line one\\nline two\"}", "msg" },
        { "{\"msg\": \"bell\\u0007\"}", "msg" },
        { "{\"msg\": \"right-to-left \\u202e override\"}", "msg" },
        { "{\"msg\": \"" + new string('x', 1025) + "\"}", "msg" },
        { "{\"msg\": {\"nested\": true}}", "msg" },
        { "{\"misses\": 0}", "misses" },
        { "{\"misses\": 101}", "misses" },
        { "{\"misses\": 2.5}", "misses" },
        { "{\"misses\": \"3\"}", "misses" },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task InvalidBodyGetsProblem400AndLogsNothing(string body, string? field)
    {
        await using var server = await InProcessServer.StartAsync();

        using var response = await server.PostAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await ReadProblemAsync(response);
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
        if (field is null)
        {
            Assert.False(problem.TryGetProperty("field", out _));
        }
        else
        {
            Assert.Equal(field, problem.GetProperty("field").GetString());
        }

        Assert.Equal([$"Server started, listening on port {server.Port}"], HeartbeatLogFile.ReadMessages(server.LogPath));
    }

    [Fact]
    public async Task InvalidUtf8GetsProblem400()
    {
        await using var server = await InProcessServer.StartAsync();
        using var content = new ByteArrayContent([.. "{\"msg\": \""u8, 0xC3, 0x28, .. "\"}"u8]);

        using var response = await server.Client.PostAsync("/", content, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(server.HeartbeatMessages());
    }

    [Fact]
    public async Task ProblemSaysWhichFieldIsWrongInWords()
    {
        await using var server = await InProcessServer.StartAsync();

        using var response = await server.PostAsync("""{"ip": "1.2.3"}""");

        var problem = await ReadProblemAsync(response);
        Assert.Equal("Invalid heartbeat", problem.GetProperty("title").GetString());
        Assert.Equal("'ip' must be an IPv4 address (such as 192.168.1.100) or an IPv6 address.", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task BodyOverTheLimitWithContentLengthGets413()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { Ingest = new() { MaxBodyBytes = 1024 } });

        using var response = await server.PostAsync($$"""{"msg": "{{new string('x', 2000)}}"}""");

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(413, (await ReadProblemAsync(response)).GetProperty("status").GetInt32());
        Assert.Empty(server.HeartbeatMessages());
    }

    [Fact]
    public async Task ChunkedBodyOverTheLimitGets413()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { Ingest = new() { MaxBodyBytes = 1024 } });
        using var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes($$"""{"ip": "1.2.3.4", "pad": "{{new string('x', 5000)}}"}""")));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await server.Client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Empty(server.HeartbeatMessages());
    }

    [Fact]
    public async Task DefaultLimitIs64KiB()
    {
        await using var server = await InProcessServer.StartAsync();
        var justUnder = $$"""{"pad": "{{new string('x', 65536 - 11)}}"}""";
        var justOver = $$"""{"pad": "{{new string('x', 65536 - 10)}}"}""";

        using var accepted = await server.PostAsync(justUnder);
        using var refused = await server.PostAsync(justOver);

        Assert.Equal(65536, Encoding.UTF8.GetByteCount(justUnder));
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
    }

    [Fact]
    public async Task ValidEdgesAreAccepted()
    {
        await using var server = await InProcessServer.StartAsync();
        string[] bodies =
        [
            """{"interval": 1}""",
            """{"interval": 86400}""",
            """{"interval": 2.5, "status": "fail"}""",
            $$"""{"msg": "{{new string('é', 512)}}"}""",
            """{"msg": "emoji 👍🏽 and ünïcödé are fine"}""",
            """{"host": "a"}""",
            $$"""{"host": "{{new string('h', 253)}}"}""",
            """{"host": "db-2_eu.west:5432"}""",
            """{"ip": "::ffff:10.1.2.3"}""",
            """{"ip": "fe80::1"}""",
            """{"unknown": {"nested": [1, 2, {"deep": null}]}, "ip": "10.0.0.1", "extra": "\u0007 ignored"}""",
            """{"ip": null, "host": null, "interval": null, "status": null, "msg": null}""",
        ];

        foreach (var body in bodies)
        {
            using var response = await server.PostAsync(body);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{body} -> {(int)response.StatusCode}");
        }

        Assert.Equal(bodies.Length, server.HeartbeatMessages().Length);
    }

    [Fact]
    public async Task UnknownPathsGetProblem404()
    {
        await using var server = await InProcessServer.StartAsync();

        using var response = await server.Client.PostAsync("/heartbeat", new StringContent("{}"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(server.HeartbeatMessages());
    }

    private static async Task<JsonElement> ReadProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal(new MediaTypeHeaderValue("application/problem+json"), response.Content.Headers.ContentType);
        var json = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return JsonDocument.Parse(json).RootElement.Clone();
    }
}
