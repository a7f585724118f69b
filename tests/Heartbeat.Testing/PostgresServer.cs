using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Heartbeat.Testing;

/// <summary>
/// A real PostgreSQL server for the fleet tests: the one <c>HEARTBEAT_TEST_POSTGRES</c> names (a connection string),
/// else a throwaway one from the machine's PostgreSQL binaries (Debian's <c>postgresql</c> package): initdb in a
/// temporary directory, listening on 127.0.0.1 and a free port, stopped and deleted at the end. Each test gets a
/// database of its own.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly string _adminConnectionString;
    private readonly string? _directory;
    private readonly string? _binaries;
    private readonly int _port;

    private PostgresServer(string adminConnectionString, string? directory, string? binaries, int port)
    {
        _adminConnectionString = adminConnectionString;
        _directory = directory;
        _binaries = binaries;
        _port = port;
    }

    /// <summary>Whether this is a server the tests started, which they may stop and start again (not one HEARTBEAT_TEST_POSTGRES names).</summary>
    public bool IsOwn => _directory is not null;

    /// <summary>The server, or null with the reason when this machine has none to offer.</summary>
    public static async Task<(PostgresServer? Server, string? Unavailable)> StartAsync()
    {
        if (Environment.GetEnvironmentVariable("HEARTBEAT_TEST_POSTGRES") is { Length: > 0 } given)
        {
            return (new PostgresServer(given, null, null, 0), null);
        }

        if (FindBinaries() is not { } binaries)
        {
            return (null, "no PostgreSQL here: install it (apt-get install postgresql) or name one in HEARTBEAT_TEST_POSTGRES");
        }

        var directory = Path.Combine(Path.GetTempPath(), $"heartbeat-postgres-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        var port = FreePort();
        var data = Path.Combine(directory, "data");
        try
        {
            if (Environment.IsPrivilegedProcess)
            {
                await RunAsync("chown", ["postgres:postgres", directory]); // PostgreSQL will not run as root
            }

            await RunAsync(Path.Combine(binaries, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
        }
        catch
        {
            Directory.Delete(directory, recursive: true);
            throw;
        }

        // A free port can be taken by someone else's connection before PostgreSQL binds it: then another one.
        for (var attempt = 1; ; attempt++)
        {
            var server = new PostgresServer(
                string.Create(CultureInfo.InvariantCulture, $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres"), directory, binaries, port);
            try
            {
                await server.StartAgainAsync();
                return (server, null);
            }
            catch (InvalidOperationException) when (attempt < 5 && File.ReadAllText(Path.Combine(directory, "server.log")).Contains("Address already in use", StringComparison.Ordinal))
            {
                File.Delete(Path.Combine(directory, "server.log"));
                port = FreePort();
            }
        }
    }

    /// <summary>Stops the server (as an outage would); <see cref="StartAgainAsync"/> brings it back with its data.</summary>
    public async Task StopAsync()
    {
        await RunAsync(Path.Combine(_binaries!, "pg_ctl"), ["-D", Path.Combine(_directory!, "data"), "-m", "fast", "-w", "stop"]);
    }

    public Task StartAgainAsync() => RunAsync(Path.Combine(_binaries!, "pg_ctl"), [
        "-D", Path.Combine(_directory!, "data"), "-l", Path.Combine(_directory!, "server.log"), "-w", "-t", "60",
        "-o", string.Create(CultureInfo.InvariantCulture, $"-p {_port} -k {_directory} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300"),
        "start",
    ]);

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"heartbeat_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(_adminConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await create.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(_adminConnectionString) { Database = name }.ConnectionString;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_directory is null)
        {
            return;
        }

        // A test may end with its server stopped, as an outage left it.
        if (File.Exists(Path.Combine(_directory, "data", "postmaster.pid")))
        {
            await RunAsync(Path.Combine(_binaries!, "pg_ctl"), ["-D", Path.Combine(_directory, "data"), "-m", "immediate", "-w", "stop"]);
        }

        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Where initdb and pg_ctl are: on the PATH, else in Debian's versioned directory (the newest).</summary>
    private static string? FindBinaries()
    {
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator)
            .FirstOrDefault(directory => File.Exists(Path.Combine(directory, "initdb")) && File.Exists(Path.Combine(directory, "pg_ctl")));
        if (onPath is not null)
        {
            return onPath;
        }

        const string Debian = "/usr/lib/postgresql";
        return Directory.Exists(Debian)
            ? Directory.GetDirectories(Debian)
                .Select(version => Path.Combine(version, "bin"))
                .Where(bin => File.Exists(Path.Combine(bin, "initdb")))
                .OrderByDescending(bin => int.TryParse(Path.GetFileName(Path.GetDirectoryName(bin)), out var major) ? major : 0)
                .FirstOrDefault()
            : null;
    }

    /// <summary>Runs a PostgreSQL tool, as the postgres user when the tests run as root.</summary>
    private static async Task RunAsync(string program, IReadOnlyList<string> arguments)
    {
        var asPostgres = Environment.IsPrivilegedProcess && program != "chown";
        var start = new ProcessStartInfo(asPostgres ? "runuser" : program) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (asPostgres)
        {
            foreach (var argument in (string[])["-u", "postgres", "--", program])
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(deadline.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(program)} failed ({process.ExitCode}): {await error}{await output}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
