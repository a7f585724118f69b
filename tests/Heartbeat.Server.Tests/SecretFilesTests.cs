using System.Net;
using System.Net.Http.Headers;

namespace Heartbeat.Server.Tests;

/// <summary>Tokens and the PostgreSQL connection string from files, as containers (HEARTBEAT_*_FILE) and systemd (credentials) pass secrets.</summary>
public sealed class SecretFilesTests
{
    private static readonly TimeSpan ExitDeadline = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task TokensComeFromFilesNamedByTheEnvironmentAndFromSystemdCredentials()
    {
        using var directory = new TempDirectory();
        var log = directory.File("heartbeat.log");
        var credentials = Directory.CreateDirectory(directory.File("credentials")).FullName;
        await File.WriteAllTextAsync(directory.File("admin"), "admin-from-file\n", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(directory.File("beat"), "beat-from-file", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(credentials, "read-token"), "read-from-credential\n", TestContext.Current.CancellationToken);
        using var server = ServerProcess.Start(["0", "--bind", "127.0.0.1", "--log-file", log], new Dictionary<string, string>
        {
            ["HEARTBEAT_ADMIN_TOKEN_FILE"] = directory.File("admin"),
            ["HEARTBEAT_TOKEN_FILE"] = directory.File("beat"),
            ["CREDENTIALS_DIRECTORY"] = credentials,
        });
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{await server.WaitForStartAsync(log)}") };

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(client, HttpMethod.Post, "/", token: null, """{"host": "web1"}"""));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, HttpMethod.Post, "/", "beat-from-file", """{"host": "web1"}"""));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(client, HttpMethod.Get, "/api/v1/hosts", token: null));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, HttpMethod.Get, "/api/v1/hosts", "read-from-credential"));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(client, HttpMethod.Delete, "/api/v1/hosts/web1", token: null));
        Assert.Equal(HttpStatusCode.NoContent, await StatusAsync(client, HttpMethod.Delete, "/api/v1/hosts/web1", "admin-from-file"));
        Assert.DoesNotContain("from-file", server.StandardOutput + server.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheVariableWinsOverItsFileAndAnUnreadableFileStopsTheStartWithAClearLine()
    {
        using var directory = new TempDirectory();
        var log = directory.File("heartbeat.log");
        await File.WriteAllTextAsync(directory.File("admin"), "admin-from-file", TestContext.Current.CancellationToken);
        using (var server = ServerProcess.Start(["0", "--bind", "127.0.0.1", "--log-file", log], new Dictionary<string, string>
        {
            ["HEARTBEAT_ADMIN_TOKEN"] = "admin-from-variable",
            ["HEARTBEAT_ADMIN_TOKEN_FILE"] = directory.File("admin"),
        }))
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{await server.WaitForStartAsync(log)}") };
            Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(client, HttpMethod.Post, "/api/v1/notifiers/test", "admin-from-file"));
            Assert.Equal(HttpStatusCode.Conflict, await StatusAsync(client, HttpMethod.Post, "/api/v1/notifiers/test", "admin-from-variable"));
        }

        using var missing = ServerProcess.Start(["0", "--bind", "127.0.0.1", "--log-file", log], new Dictionary<string, string>
        {
            ["HEARTBEAT_READ_TOKEN_FILE"] = directory.File("no-such-file"),
        });
        Assert.Equal(2, await missing.WaitForExitAsync(ExitDeadline));
        Assert.Contains($"HEARTBEAT_READ_TOKEN_FILE: cannot read '{directory.File("no-such-file")}'", missing.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", missing.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThePostgresConnectionStringComesFromAFile()
    {
        using var directory = new TempDirectory();
        // Port 1 on loopback: nothing listens, so the start fails fast, on the connection the file gave.
        await File.WriteAllTextAsync(directory.File("postgres"), "Host=127.0.0.1;Port=1;Database=heartbeat;Username=heartbeat;Timeout=2\n", TestContext.Current.CancellationToken);

        using var server = ServerProcess.Start(["0", "--bind", "127.0.0.1", "--log-file", directory.File("heartbeat.log"), "--store", "postgres"], new Dictionary<string, string>
        {
            ["HEARTBEAT_POSTGRES_FILE"] = directory.File("postgres"),
        });

        Assert.Equal(1, await server.WaitForExitAsync(ExitDeadline)); // could not start; 2 would be "no connection string"
        Assert.Contains("--postgres connection string", server.StandardError, StringComparison.Ordinal);
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient client, HttpMethod method, string path, string? token, string? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : new StringContent(body) };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        return response.StatusCode;
    }
}
