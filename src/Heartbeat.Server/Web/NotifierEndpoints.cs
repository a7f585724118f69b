using Heartbeat.Server.ApiDocs;
using Heartbeat.Server.Notify;
using Heartbeat.Server.Security;
using Heartbeat.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Heartbeat.Server.Web;

// How the alert targets are doing, and a way to send them a test notification.
internal static class NotifierEndpoints
{
    public static IEndpointRouteBuilder MapNotifiersApi(this IEndpointRouteBuilder app)
    {
        var notifiers = app.MapGroup("/api/v1/notifiers").RequireAccess().WithTags(ApiDocument.Notifiers);
        notifiers.MapGet("/", ListAsync).WithName("ListNotifiers").WithSummary("Each webhook and command, with its deliveries and what waits");
        notifiers.MapPost("/test", SendTestAsync).WithName("TestNotifiers").WithSummary("Queues a test notification to every target").ProducesProblem(409);
        return app;
    }

    public static async Task<IReadOnlyList<NotifierView>> ReadAsync(Notifiers notifiers, IHostStore store, CancellationToken cancellationToken)
    {
        var stats = (await store.ReadNotifierStatsAsync(cancellationToken)).ToDictionary(s => s.Target, StringComparer.Ordinal);
        return [.. notifiers.Targets.Select(t => NotifierView.From(t, stats.GetValueOrDefault(t.Key)))];
    }

    // A test notification to every target; none without targets.
    public static async Task<IReadOnlyList<PendingNotification>> QueueTestAsync(Notifiers notifiers, IHostStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var tests = notifiers.Test(time.GetUtcNow());
        if (tests.Count > 0)
        {
            await store.EnqueueNotificationsAsync(tests, cancellationToken);
            notifiers.Queued();
        }

        return tests;
    }

    private static async Task<Ok<IReadOnlyList<NotifierView>>> ListAsync(Notifiers notifiers, IHostStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok(await ReadAsync(notifiers, store, cancellationToken));

    private static async Task<Results<Accepted<TestQueued>, ProblemHttpResult>> SendTestAsync(
        Notifiers notifiers, IHostStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var tests = await QueueTestAsync(notifiers, store, time, cancellationToken);
        if (tests.Count == 0)
        {
            return TypedResults.Problem(
                title: "No notifiers",
                detail: "No notifier is configured; start the server with --webhook URL or --notify-exec COMMAND.",
                statusCode: StatusCodes.Status409Conflict);
        }

        return TypedResults.Accepted("/api/v1/notifiers", new TestQueued(tests.Count, tests[0].Notification.EventId));
    }
}

internal sealed record NotifierView(
    string Key,
    string Name,
    IReadOnlyList<string> Events,
    int Pending,
    int Parked,
    int Delivered,
    DateTimeOffset? LastDelivered,
    string? LastError,
    DateTimeOffset? LastErrorAt)
{
    public static NotifierView From(INotificationTarget target, NotifierStats? stats) => new(
        target.Key, target.DisplayName, [.. target.Events.Order(StringComparer.Ordinal)],
        stats?.Pending ?? 0, stats?.Parked ?? 0, stats?.Delivered ?? 0, stats?.LastDelivered, stats?.LastError, stats?.LastErrorAt);
}

internal sealed record TestQueued(int Queued, string EventId);
