namespace Heartbeat.Server.Tests.Infrastructure;

/// <summary>Where the browser tests save their screenshots: tests/artifacts/screenshots in the checkout (git ignores it), where CI collects them.</summary>
internal static class Screenshots
{
    public static string Folder { get; } = Create();

    private static string Create()
    {
        var folder = Repository.File("tests", "artifacts", "screenshots");
        Directory.CreateDirectory(folder);
        return folder;
    }
}
