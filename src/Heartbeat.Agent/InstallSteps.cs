using System.Diagnostics;

namespace Heartbeat.Agent;

// One thing an install or uninstall does, in order, so that a dry run can show exactly what the real one would do.
internal abstract record InstallStep;

// The agent's own binary copied to where the service runs it (mode 0755), replaced in one rename.
internal sealed record CopyBinary(string Source, string Destination) : InstallStep;

// Path: where the file goes. Shown: what a dry run prints (the content with any token masked).
// Private: readable by its owner only (mode 0600), as it holds a token.
internal sealed record WriteFile(string Path, string Content, string Shown, bool Private) : InstallStep;

// EmptyDirectory: its directory goes too once nothing else is in it (/etc/heartbeat, made by install for the token file).
internal sealed record RemoveFile(string Path, bool EmptyDirectory = false) : InstallStep;

// A service manager command; MayFail: an uninstall goes on removing files when stopping a service that is not loaded fails.
internal sealed record RunCommand(string[] Arguments, bool MayFail = false) : InstallStep;

// Steps: what to do. Problem: why nothing may be done at all. ManagerAbsent: why the commands cannot run here (no
// running systemd, a staging root), so that the files are put in place and the user is told how to start the service.
internal sealed record InstallPlan(IReadOnlyList<InstallStep> Steps, string? Problem = null, string? ManagerAbsent = null);

internal static class InstallSteps
{
    // What was done goes to output; a refusal or a failure to errors.
    public static async Task<int> ApplyAsync(InstallPlan plan, bool dryRun, TextWriter output, TextWriter errors, CancellationToken cancellationToken)
    {
        if (plan.Problem is { } problem)
        {
            await errors.WriteLineAsync($"{AgentCommand.Name}: {problem}");
            return 1;
        }

        var skipped = new List<string>();
        foreach (var step in plan.Steps)
        {
            if (step is RunCommand { Arguments: var skippedCommand } && plan.ManagerAbsent is not null)
            {
                skipped.Add(string.Join(' ', skippedCommand));
                continue;
            }

            if (dryRun)
            {
                await output.WriteLineAsync(Describe(step));
                continue;
            }

            if (!await ApplyAsync(step, output, errors, cancellationToken))
            {
                return 1;
            }
        }

        if (plan.ManagerAbsent is { } reason && skipped.Count > 0)
        {
            await output.WriteLineAsync($"{reason}; {(dryRun ? "it would run" : "it ran")} no service manager command. Where it runs, run:");
            foreach (var command in skipped)
            {
                await output.WriteLineAsync($"  {command}");
            }
        }

        return 0;
    }

    private static string Describe(InstallStep step) => step switch
    {
        CopyBinary copy => $"Would copy {copy.Source} to {copy.Destination} (mode 0755)",
        WriteFile file => $"Would write {file.Path}{(file.Private ? " (mode 0600)" : string.Empty)}:\n{file.Shown}",
        RemoveFile remove => $"Would remove {remove.Path}",
        RunCommand run => $"Would run: {string.Join(' ', run.Arguments)}",
        _ => throw new ArgumentOutOfRangeException(nameof(step)),
    };

    private static async Task<bool> ApplyAsync(InstallStep step, TextWriter output, TextWriter errors, CancellationToken cancellationToken)
    {
        switch (step)
        {
            case CopyBinary copy:
                Directory.CreateDirectory(Path.GetDirectoryName(copy.Destination)!);
                if (!string.Equals(Path.GetFullPath(copy.Source), Path.GetFullPath(copy.Destination), StringComparison.Ordinal))
                {
                    // Beside the target, then one rename: a running agent keeps its old file, and no half-copied one is ever run.
                    var partial = copy.Destination + ".partial";
                    File.Copy(copy.Source, partial, overwrite: true);
                    SetMode(partial, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
                    File.Move(partial, copy.Destination, overwrite: true);
                }

                await output.WriteLineAsync($"Installed {copy.Destination}");
                return true;
            case WriteFile file:
                Directory.CreateDirectory(Path.GetDirectoryName(file.Path)!);
                await File.WriteAllTextAsync(file.Path, file.Content, cancellationToken);
                SetMode(file.Path, file.Private
                    ? UnixFileMode.UserRead | UnixFileMode.UserWrite
                    : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
                await output.WriteLineAsync($"Wrote {file.Path}");
                return true;
            case RemoveFile remove:
                if (!File.Exists(remove.Path))
                {
                    await output.WriteLineAsync($"{remove.Path} was not there");
                    return true;
                }

                File.Delete(remove.Path);
                await output.WriteLineAsync($"Removed {remove.Path}");
                if (remove.EmptyDirectory && Path.GetDirectoryName(remove.Path) is { } directory && !Directory.EnumerateFileSystemEntries(directory).Any())
                {
                    Directory.Delete(directory);
                }

                return true;
            case RunCommand run:
                return await RunAsync(run, errors, cancellationToken);
            default:
                throw new ArgumentOutOfRangeException(nameof(step));
        }
    }

    private static async Task<bool> RunAsync(RunCommand run, TextWriter errors, CancellationToken cancellationToken)
    {
        using var process = Process.Start(new ProcessStartInfo(run.Arguments[0], run.Arguments[1..]) { UseShellExecute = false })
            ?? throw new InvalidOperationException($"could not run {run.Arguments[0]}");
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode == 0)
        {
            return true;
        }

        await errors.WriteLineAsync($"{AgentCommand.Name}: '{string.Join(' ', run.Arguments)}' failed with exit code {process.ExitCode}{(run.MayFail ? "; going on" : ".")}");
        return run.MayFail;
    }

    private static void SetMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }
}
