using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;

namespace Heartbeat.Server.Tests.Infrastructure;

/// <summary>A real HTTP receiver on 127.0.0.1 that records every webhook it gets, and can be told to fail.</summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly ConcurrentQueue<ReceivedRequest> _requests = new();
    private LoopbackHttpServer _server = null!;
    private int _failuresLeft;
    private int _holdsLeft;

    public Uri Url => _server.Url;

    public IReadOnlyList<ReceivedRequest> Requests => [.. _requests];

    /// <summary>Answer the next <paramref name="count"/> requests with 500 (int.MaxValue: always).</summary>
    public void FailNext(int count) => Volatile.Write(ref _failuresLeft, count);

    /// <summary>Keep the next <paramref name="count"/> requests waiting, unanswered, until their sender gives up on them.</summary>
    public void HoldNext(int count) => Volatile.Write(ref _holdsLeft, count);

    public static async Task<WebhookReceiver> StartAsync()
    {
        var receiver = new WebhookReceiver();
        receiver._server = await LoopbackHttpServer.StartAsync(receiver.RecordAsync);
        return receiver;
    }

    public async Task<ReceivedRequest> WaitForAsync(Func<ReceivedRequest, bool> match, string what, TimeSpan? timeout = null) =>
        await Eventually.ValueAsync(() => _requests.FirstOrDefault(match), what, timeout);

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private async Task RecordAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var failing = Interlocked.Decrement(ref _failuresLeft) >= 0;
        var held = Interlocked.Decrement(ref _holdsLeft) >= 0;
        _requests.Enqueue(new ReceivedRequest(context.Request.Method, context.Request.Path + context.Request.QueryString, headers, body, failing || held));
        if (held)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                // The sender gave up, or went away.
            }

            return;
        }

        context.Response.StatusCode = failing ? StatusCodes.Status500InternalServerError : StatusCodes.Status200OK;
    }
}

internal sealed record ReceivedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body, bool AnsweredWithFailure);
