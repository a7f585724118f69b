using Npgsql;

[assembly: AssemblyFixture(typeof(Heartbeat.Server.Tests.Infrastructure.PostgresFixture))]

namespace Heartbeat.Server.Tests.Infrastructure;

/// <summary>
/// One PostgreSQL server for the test run (see <see cref="PostgresServer"/>), a fresh database per test. Without
/// PostgreSQL the fleet tests are skipped with the reason, except in CI (CI=true), where they fail: there they must run.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private readonly SemaphoreSlim _starting = new(1, 1);
    private PostgresServer? _server;
    private string? _unavailable;
    private bool _started;

    /// <summary>The connection string of a new, empty database.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        await _starting.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            if (!_started)
            {
                (_server, _unavailable) = await PostgresServer.StartAsync();
                _started = true;
            }
        }
        finally
        {
            _starting.Release();
        }

        return await (_server ?? Unavailable(_unavailable)).CreateDatabaseAsync();
    }

    /// <summary>A PostgreSQL server of the test's own, which it may stop and start again; the caller disposes it.</summary>
    public static async Task<PostgresServer> StartOwnServerAsync()
    {
        var (server, unavailable) = await PostgresServer.StartAsync();
        if (server is { IsOwn: false })
        {
            await server.DisposeAsync();
            unavailable = "this test stops and restarts PostgreSQL, which it cannot do to the one HEARTBEAT_TEST_POSTGRES names";
            server = null;
        }

        return server ?? Unavailable(unavailable);
    }

    private static PostgresServer Unavailable(string? reason)
    {
        if (Environment.GetEnvironmentVariable("CI") is { Length: > 0 })
        {
            Assert.Fail($"The fleet tests must run in CI, but {reason}.");
        }

        Assert.Skip($"Fleet test skipped: {reason}.");
        return null!;
    }

    /// <summary>Runs a query against a test's database and returns the first column of every row.</summary>
    public static async Task<List<T>> QueryAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        var values = new List<T>();
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            values.Add(reader.GetFieldValue<T>(0));
        }

        return values;
    }

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _starting.Dispose();
    }
}
