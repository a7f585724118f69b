using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using Cronos;
using Heartbeat.Protocol;
using Heartbeat.Server.ApiDocs;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Ingest;
using Heartbeat.Server.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Heartbeat.Server.Web;

// A host's liveness settings, set by an admin: PATCH /api/v1/hosts/{id} changes a known host, PUT also
// expects one that has never beaten. The body names what changes: interval and grace (seconds),
// misses, schedule (5-field cron) and timezone (IANA); null falls back to what the host declares,
// learns or the server's default.
internal static class HostSettingsEndpoints
{
    private const int MaxSettingsDays = 30;
    private const int MaxBodyBytes = 4096;

    private static readonly string[] Fields = ["interval", "grace", "misses", "schedule", "timezone"];

    public static IEndpointRouteBuilder MapHostSettings(this IEndpointRouteBuilder app)
    {
        var hosts = app.MapGroup("/api/v1/hosts/{id}").RequireAccess().WithTags(ApiDocument.Hosts)
            .Takes(typeof(HostSettingsRequest), "application/json").Problems(400, 413);
        hosts.MapPatch(string.Empty, ConfigureAsync).WithName("ConfigureHost")
            .WithSummary("Sets a host's liveness settings; a null field falls back to what it declares, is learned, or the default").ProducesProblem(404);
        hosts.MapPut(string.Empty, ExpectAsync).WithName("ExpectHost")
            .WithSummary("Adds a host before its first beat (pending until it comes), or configures a known one");
        return app;
    }

    private static async Task<Results<Ok<HostView>, ProblemHttpResult>> ConfigureAsync(
        string id, HttpRequest request, IHostLedger ledger, HostRegistry registry, HostViews views)
    {
        var (change, problem) = await ReadChangeAsync(request);
        if (problem is not null)
        {
            return problem;
        }

        if (!await ledger.ConfigureAsync(id, change!))
        {
            return TypedResults.Problem(title: "No such host", detail: $"No host is known as '{id}'.", statusCode: StatusCodes.Status404NotFound);
        }

        return TypedResults.Ok(views.From(registry.Find(id)!, withBody: true));
    }

    private static async Task<Results<Created<HostView>, Ok<HostView>, ProblemHttpResult>> ExpectAsync(
        string id, HttpRequest request, IHostLedger ledger, HostRegistry registry, HostAdmission admission, HostViews views)
    {
        if (!HeartbeatRules.IsValidHost(id))
        {
            return Invalid("id", "A host name is 1-253 letters, digits, '.', '-', '_' or ':'.");
        }

        var (change, problem) = await ReadChangeAsync(request);
        if (problem is not null)
        {
            return problem;
        }

        if (admission.Check(request.HttpContext, id, fromAddress: null, out var slot) is { } full)
        {
            return full;
        }

        bool added;
        using (slot)
        {
            added = await ledger.ExpectAsync(id, change!);
        }

        var view = views.From(registry.Find(id)!, withBody: true);
        return added ? TypedResults.Created($"/api/v1/hosts/{Uri.EscapeDataString(id)}", view) : TypedResults.Ok(view);
    }

    private static async Task<(HostSettingsChange? Change, ProblemHttpResult? Problem)> ReadChangeAsync(HttpRequest request)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            return (null, TypedResults.Problem(title: "Body too large", detail: $"Settings fit in {MaxBodyBytes} bytes.", statusCode: StatusCodes.Status413PayloadTooLarge));
        }

        JsonDocument document;
        try
        {
            document = request.ContentLength == 0 ? JsonDocument.Parse("{}") : await JsonDocument.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
        }
        catch (JsonException)
        {
            return (null, Invalid(null, "The body must be a JSON object, such as {\"interval\": 300}."));
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (null, Invalid(null, "The body must be a JSON object, such as {\"interval\": 300}."));
            }

            var change = new HostSettingsChange();
            foreach (var field in document.RootElement.EnumerateObject())
            {
                if (!TryRead(field, ref change, out var error))
                {
                    return (null, Invalid(field.Name, error));
                }
            }

            return (change, null);
        }
    }

    // One field of a change, checked; the host page's settings form comes here too.
    public static bool TryRead(JsonProperty field, ref HostSettingsChange change, [NotNullWhen(false)] out string? error)
    {
        error = null;
        var value = field.Value;
        var isNull = value.ValueKind == JsonValueKind.Null;
        switch (field.Name)
        {
            case "interval" or "grace":
                if (!isNull && !(value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var seconds) && seconds >= 1 && seconds <= MaxSettingsDays * 86_400))
                {
                    error = $"'{field.Name}' is a number of seconds from 1 to {MaxSettingsDays * 86_400} ({MaxSettingsDays} days), or null.";
                    return false;
                }

                var duration = new Given<TimeSpan?>(isNull ? null : TimeSpan.FromSeconds(value.GetDouble()));
                change = field.Name == "interval" ? change with { Interval = duration } : change with { Grace = duration };
                return true;
            case "misses":
                if (!isNull && !(value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var misses) && misses >= 1 && misses <= HeartbeatRules.MaxMissesBeforeDown))
                {
                    error = $"'misses' is a whole number from 1 to {HeartbeatRules.MaxMissesBeforeDown}, or null.";
                    return false;
                }

                change = change with { Misses = new(isNull ? null : value.GetInt32()) };
                return true;
            case "schedule":
                if (!isNull && !(value.ValueKind == JsonValueKind.String && CronExpression.TryParse(value.GetString()!, CronFormat.Standard, out _)))
                {
                    error = "'schedule' is a 5-field cron expression, such as \"30 2 * * *\" (02:30 every day), or null.";
                    return false;
                }

                change = change with { Schedule = new(isNull ? null : value.GetString()) };
                return true;
            case "timezone":
                if (!isNull && !(value.ValueKind == JsonValueKind.String && TimeZoneInfo.TryFindSystemTimeZoneById(value.GetString()!, out _)))
                {
                    error = "'timezone' is an IANA time zone this machine knows, such as \"Europe/Berlin\", or null (UTC).";
                    return false;
                }

                change = change with { TimeZone = new(isNull ? null : value.GetString()) };
                return true;
            default:
                error = string.Create(CultureInfo.InvariantCulture, $"'{field.Name}' is not a setting; the settings are {string.Join(", ", Fields)}.");
                return false;
        }
    }

    private static ProblemHttpResult Invalid(string? field, string detail) => TypedResults.Problem(
        title: "Invalid settings",
        detail: detail,
        statusCode: StatusCodes.Status400BadRequest,
        extensions: field is null ? null : new Dictionary<string, object?> { ["field"] = field });
}
