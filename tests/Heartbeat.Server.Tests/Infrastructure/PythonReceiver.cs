namespace Heartbeat.Server.Tests.Infrastructure;

/// <summary>
/// A webhook receiver as people write one in a few lines of Python: the standard library's http.server with its
/// defaults (HTTP/1.0, one request at a time, the connection closed after each answer), answering 200 with a
/// Content-Length. It prints the Idempotency-Key of every request it gets.
/// </summary>
internal sealed class PythonReceiver : IDisposable
{
    private const string Script = """
        from http.server import BaseHTTPRequestHandler, HTTPServer

        class Receiver(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                print("received", self.headers.get("Idempotency-Key"), flush=True)

            def log_message(self, *args):
                pass

        server = HTTPServer(("127.0.0.1", 0), Receiver)
        print("listening", server.server_address[1], flush=True)
        server.serve_forever()
        """;

    private readonly ChildProcess _process;

    private PythonReceiver(ChildProcess process) => _process = process;

    public Uri Url { get; private set; } = null!;

    /// <summary>The Idempotency-Key of each request received, in order.</summary>
    public IReadOnlyList<string> Received => [.. Lines("received ")];

    public static async Task<PythonReceiver> StartAsync()
    {
        var python = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator)
            .Select(directory => Path.Combine(directory, "python3"))
            .FirstOrDefault(File.Exists);
        Assert.True(python is not null, "The webhook tests need python3 (apt-get install python3); ./test.sh installs it.");
        var receiver = new PythonReceiver(ChildProcess.Start(python, ["-c", Script]));
        var port = await Eventually.ValueAsync(() => receiver.Lines("listening ").FirstOrDefault(), "the Python receiver to listen");
        receiver.Url = new Uri($"http://127.0.0.1:{port}/");
        return receiver;
    }

    public void Dispose() => _process.Dispose();

    private IEnumerable<string> Lines(string prefix) => _process.StandardOutput
        .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Where(line => line.StartsWith(prefix, StringComparison.Ordinal))
        .Select(line => line[prefix.Length..]);
}
