namespace Heartbeat.Server.Tests.Infrastructure;

/// <summary>A real program the tests run on the shipped files (promtool, an OpenAPI validator), installed by ./test.sh.</summary>
internal static class Tool
{
    /// <summary>The program at path; the failure says how to get it.</summary>
    public static string Require(string path, string install)
    {
        Assert.True(File.Exists(path), $"{path} is missing: run ./test.sh, which installs it, or {install}");
        return path;
    }

    /// <summary>Runs it to its end (within a minute) and returns its exit code and what it printed, both streams.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string program, params string[] arguments)
    {
        using var process = ChildProcess.Start(program, arguments);
        var exit = await process.WaitForExitAsync(TimeSpan.FromMinutes(1));
        return (exit, process.StandardOutput + process.StandardError);
    }
}
