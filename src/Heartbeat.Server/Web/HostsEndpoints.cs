using System.Buffers;
using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using Heartbeat.Protocol;
using Heartbeat.Server.ApiDocs;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Security;
using Heartbeat.Server.Storage;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Heartbeat.Server.Web;

// The JSON API: /api/v1/hosts, a host, its history, forgetting it, and the live event stream.
internal static class HostsEndpoints
{
    public static IEndpointRouteBuilder MapHostsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").RequireAccess().WithTags(ApiDocument.Hosts);
        api.MapGet("/hosts", ListHosts).RequireRateLimiting(RateLimits.HostList)
            .WithName("ListHosts").WithSummary("Hosts, trouble first, a page at a time, with counts per state").ProducesProblem(400);
        api.MapGet("/hosts/{id}", GetHostAsync).WithName("GetHost").WithSummary("One host, with its last ping body and uptime").ProducesProblem(404);
        api.MapGet("/hosts/{id}/history", GetHistoryAsync)
            .WithName("GetHostHistory").WithSummary("A host's address changes and events, newest first").ProducesProblem(404);
        api.MapDelete("/hosts/{id}", ForgetHost).WithName("ForgetHost").WithSummary("Forgets a retired host").ProducesProblem(404);
        api.MapPost("/hosts/{id}/maintenance", StartMaintenance)
            .WithName("StartMaintenance").WithSummary("Pauses a host's alerts ?for=30m (1s to 30d)").Problems(400, 404);
        api.MapDelete("/hosts/{id}/maintenance", EndMaintenance).WithName("EndMaintenance").WithSummary("Ends a maintenance window").ProducesProblem(404);
        api.MapGet("/events", StreamEventsAsync).WithName("StreamEvents")
            .WithSummary("Server-Sent Events, one per host event (JSON); ?since=ID or Last-Event-ID replays what came after it")
            .Produces<EventView>(StatusCodes.Status200OK, "text/event-stream").ProducesProblem(400);
        return app;
    }

    private static Results<Ok<HostPage>, ProblemHttpResult> ListHosts(
        HostRegistry registry, HostViews views, string? state, string? q, string? group, string? cursor, int? offset, int? limit)
    {
        var parsedState = ApiNames.ParseState(state);
        if (state is not null && parsedState is null)
        {
            return BadQuery($"'state' must be one of {string.Join(", ", Enum.GetValues<HostState>().Select(ApiNames.Of))}.");
        }

        if (offset < 0 || limit is < 1 or > HostQuery.MaxLimit)
        {
            return BadQuery($"'offset' must be 0 or more and 'limit' between 1 and {HostQuery.MaxLimit}.");
        }

        HostCursor? after = null;
        if (cursor is not null)
        {
            if (!HostCursor.TryParse(cursor, out var parsed))
            {
                return BadQuery("'cursor' must be a nextCursor from an earlier page, as it was given.");
            }

            after = parsed;
        }

        return TypedResults.Ok(HostQuery.Run(registry, views, parsedState, q, group is null ? null : [group], after, offset ?? 0, limit ?? HostQuery.DefaultLimit));
    }

    private static async Task<Results<Ok<HostView>, ProblemHttpResult>> GetHostAsync(
        HostRegistry registry, HostViews views, IHostStore store, TimeProvider time, string id, CancellationToken cancellationToken) =>
        registry.Find(id) is { } host
            ? TypedResults.Ok(views.From(host, withBody: true) with { Uptime = UptimeView.Of(await StateHistory.ReadAsync(store, host, cancellationToken), time.GetUtcNow()) })
            : NoSuchHost(id);

    private static Results<Ok<HostView>, ProblemHttpResult> GetHost(HostRegistry registry, HostViews views, string id) =>
        registry.Find(id) is { } host ? TypedResults.Ok(views.From(host, withBody: true)) : NoSuchHost(id);

    private static async Task<Results<Ok<HostHistory>, ProblemHttpResult>> GetHistoryAsync(
        HostRegistry registry, IHostStore store, IStoreWriter writer, string id, CancellationToken cancellationToken)
    {
        if (registry.Find(id) is null)
        {
            return NoSuchHost(id);
        }

        // What was acknowledged before this request is in the history it reads.
        await writer.FlushAsync(cancellationToken);

        var addresses = await store.ReadAddressHistoryAsync(id, IHostStore.HistoryPerHost, cancellationToken);
        var events = await store.ReadHostEventsAsync(id, IHostStore.HistoryPerHost, cancellationToken);
        return TypedResults.Ok(new HostHistory(
            id,
            [.. addresses.Select(AddressChangeView.From)],
            [.. events.Reverse().Select(EventView.From)]));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> ForgetHost(IHostLedger ledger, string id) =>
        await ledger.ForgetAsync(id) ? TypedResults.NoContent() : NoSuchHost(id);

    // Pauses a host's alerts ?for=30m (1 s to 30 days); if it is silent when the window ends, it is down then.
    private static async Task<Results<Ok<HostView>, ProblemHttpResult>> StartMaintenance(
        IHostLedger ledger, HostRegistry registry, HostViews views, string id, [FromQuery(Name = "for")] string? window)
    {
        if (window is null || !Durations.TryParse(window, out var duration)
            || duration < TimeSpan.FromSeconds(1) || duration > TimeSpan.FromSeconds(HeartbeatRules.MaxMaintenanceSeconds))
        {
            return BadQuery("'for' must be a duration from 1s to 30d, such as ?for=30m or ?for=2h.");
        }

        return await SetMaintenanceAsync(ledger, registry, views, id, duration);
    }

    private static Task<Results<Ok<HostView>, ProblemHttpResult>> EndMaintenance(IHostLedger ledger, HostRegistry registry, HostViews views, string id) =>
        SetMaintenanceAsync(ledger, registry, views, id, TimeSpan.Zero);

    private static async Task<Results<Ok<HostView>, ProblemHttpResult>> SetMaintenanceAsync(
        IHostLedger ledger, HostRegistry registry, HostViews views, string id, TimeSpan window) =>
        await ledger.SetMaintenanceAsync(id, window) ? GetHost(registry, views, id) : NoSuchHost(id);

    // Server-Sent Events, one per host event. ?since=ID (or the Last-Event-ID header an EventSource
    // sends when it reconnects) first replays what came after that event.
    private static async Task StreamEventsAsync(
        HttpContext context, HostEventFeed feed, IHostStore store, IHostApplicationLifetime lifetime, string? since)
    {
        var resumeFrom = since ?? context.Request.Headers["Last-Event-ID"].FirstOrDefault();
        long? afterId = null;
        if (resumeFrom is not null)
        {
            if (!long.TryParse(resumeFrom, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                await BadQuery("'since' must be an event id (a whole number).").ExecuteAsync(context);
                return;
            }

            afterId = parsed;
        }

        // Subscribed before the headers go out: once a client sees it is connected, no event can slip past it.
        var (backlog, live, subscription) = feed.Subscribe(afterId ?? long.MaxValue);
        using var unsubscribe = subscription;

        // Headers go out at once, so a client knows it is connected before the first event happens.
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        context.Features.GetRequiredFeature<IHttpResponseBodyFeature>().DisableBuffering();
        await context.Response.StartAsync(context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);

        var events = Stream(backlog, live, store, afterId, lifetime.ApplicationStopping, context.RequestAborted);
        try
        {
            await SseFormatter.WriteAsync(events, context.Response.Body, WriteJson, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            // The client left.
        }
    }

    private static void WriteJson(SseItem<EventView> item, IBufferWriter<byte> destination)
    {
        using var writer = new Utf8JsonWriter(destination);
        JsonSerializer.Serialize(writer, item.Data, ApiJsonContext.Default.EventView);
    }

    private static async IAsyncEnumerable<SseItem<EventView>> Stream(
        IReadOnlyList<HostEvent> backlog,
        ChannelReader<HostEvent> live,
        IHostStore store,
        long? afterId,
        CancellationToken stopping,
        [EnumeratorCancellation] CancellationToken aborted)
    {
        // Ends when the client leaves or the server stops, so a shutdown never waits on an open page.
        using var done = CancellationTokenSource.CreateLinkedTokenSource(stopping, aborted);
        var last = afterId ?? 0;
        if (afterId is { } after && (backlog.Count == 0 || backlog[0].Id > after + 1))
        {
            // Older than what the feed keeps in memory: replay those from the store first.
            foreach (var e in await store.ReadEventsAsync(after, 1000, done.Token))
            {
                yield return Item(e);
                last = e.Id;
            }
        }

        foreach (var e in backlog.Where(e => e.Id > last))
        {
            yield return Item(e);
            last = e.Id;
        }

        while (await WaitAsync(live, done.Token))
        {
            while (live.TryRead(out var e))
            {
                if (afterId is null || e.Id > last)
                {
                    yield return Item(e);
                    last = e.Id;
                }
            }
        }
    }

    private static async Task<bool> WaitAsync(ChannelReader<HostEvent> live, CancellationToken cancellationToken)
    {
        try
        {
            return await live.WaitToReadAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static SseItem<EventView> Item(HostEvent e) =>
        new(EventView.From(e), ApiNames.Of(e.Kind)) { EventId = e.Id.ToString(CultureInfo.InvariantCulture) };

    private static ProblemHttpResult NoSuchHost(string id) => TypedResults.Problem(
        title: "No such host", detail: $"No host is known as '{id}'.", statusCode: StatusCodes.Status404NotFound);

    private static ProblemHttpResult BadQuery(string detail) => TypedResults.Problem(
        title: "Invalid query", detail: detail, statusCode: StatusCodes.Status400BadRequest);
}
