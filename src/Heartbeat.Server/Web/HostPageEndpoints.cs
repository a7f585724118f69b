using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Heartbeat.Protocol;
using Heartbeat.Server.ApiDocs;
using Heartbeat.Server.Hosts;
using Heartbeat.Server.Notify;
using Heartbeat.Server.Security;
using Heartbeat.Server.Storage;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Heartbeat.Server.Web;

// GET /hosts/{id}: one host's page. An admin gets forms on it that POST to the routes below it, each with the page's
// antiforgery token, and come back to the page (Post/Redirect/Get) with a line saying what was done.
internal static class HostPageEndpoints
{
    private static readonly string[] SettingFields = ["interval", "grace", "misses", "schedule", "timezone"];

    // The confirmations a redirect may ask for, by key: nothing from the address is ever shown.
    private static readonly Dictionary<string, string> Done = new(StringComparer.Ordinal)
    {
        ["maintenance-started"] = "Maintenance started: this host alerts nobody until it ends.",
        ["maintenance-ended"] = "Maintenance ended.",
        ["settings-saved"] = "Settings saved.",
        ["test-queued"] = "A test notification is on its way to every notifier.",
        ["forgotten"] = "Forgotten, with its history. If it beats again it comes back as a new host.",
    };

    public static IEndpointRouteBuilder MapHostPage(this IEndpointRouteBuilder app)
    {
        var page = app.MapGroup("/hosts/{id}").RequireAccess().RequireAntiforgery().WithTags(ApiDocument.Pages)
            .Responds(StatusCodes.Status200OK, typeof(string), "text/html").Responds(StatusCodes.Status404NotFound, typeof(string), "text/html");
        page.MapGet(string.Empty, ShowAsync).WithName("HostPage").WithSummary("A host's page");
        var forms = page.MapGroup(string.Empty).Takes(typeof(Dictionary<string, string>), "application/x-www-form-urlencoded")
            .Responds(StatusCodes.Status302Found, null).Responds(StatusCodes.Status400BadRequest, typeof(string), "text/html");
        forms.MapPost("/maintenance", StartMaintenanceAsync).WithName("HostPageStartMaintenance").WithSummary("The page's form: start maintenance (field: for)");
        forms.MapPost("/maintenance/end", EndMaintenanceAsync).WithName("HostPageEndMaintenance").WithSummary("The page's form: end maintenance");
        forms.MapPost("/settings", ConfigureAsync).WithName("HostPageSettings").WithSummary("The page's form: liveness settings");
        forms.MapPost("/test-notification", SendTestAsync).WithName("HostPageTestNotification").WithSummary("The page's form: a test notification");
        forms.MapPost("/forget", ForgetAsync).WithName("HostPageForget").WithSummary("The page's form: forget the host (with confirm=yes)");
        return app;
    }

    private static async Task<ContentHttpResult> ShowAsync(HttpContext context, string id, string? done, string? confirm)
    {
        var flash = done is null ? null : Done.GetValueOrDefault(done);
        return await PageAsync(context, id, flash, error: null, StatusCodes.Status200OK, confirmForget: confirm == "forget");
    }

    private static async Task<Results<RedirectHttpResult, ContentHttpResult>> StartMaintenanceAsync(HttpContext context, IHostLedger ledger, string id)
    {
        var form = await FormAsync(context);
        if (!Durations.TryParse(form["for"].ToString(), out var window)
            || window < TimeSpan.FromSeconds(1) || window > TimeSpan.FromSeconds(HeartbeatRules.MaxMaintenanceSeconds))
        {
            return await PageAsync(context, id, null, "A maintenance window is a duration from 1s to 30d, such as 30m or 2h.", StatusCodes.Status400BadRequest);
        }

        return await ledger.SetMaintenanceAsync(id, window) ? Back(id, "maintenance-started") : await MissingAsync(context, id);
    }

    private static async Task<Results<RedirectHttpResult, ContentHttpResult>> EndMaintenanceAsync(HttpContext context, IHostLedger ledger, string id) =>
        await ledger.SetMaintenanceAsync(id, TimeSpan.Zero) ? Back(id, "maintenance-ended") : await MissingAsync(context, id);

    private static async Task<Results<RedirectHttpResult, ContentHttpResult>> ConfigureAsync(HttpContext context, IHostLedger ledger, string id)
    {
        var (change, error) = ReadSettings(await FormAsync(context));
        if (change is null)
        {
            return await PageAsync(context, id, null, error, StatusCodes.Status400BadRequest);
        }

        return await ledger.ConfigureAsync(id, change) ? Back(id, "settings-saved") : await MissingAsync(context, id);
    }

    private static async Task<Results<RedirectHttpResult, ContentHttpResult>> SendTestAsync(
        HttpContext context, HostRegistry registry, Notifiers notifiers, IHostStore store, TimeProvider time, string id)
    {
        if (registry.Find(id) is null)
        {
            return await MissingAsync(context, id);
        }

        var queued = await NotifierEndpoints.QueueTestAsync(notifiers, store, time, context.RequestAborted);
        return queued.Count > 0
            ? Back(id, "test-queued")
            : await PageAsync(context, id, null, "No notifier is configured; start the server with --webhook URL or --notify-exec COMMAND.", StatusCodes.Status409Conflict);
    }

    private static async Task<Results<RedirectHttpResult, ContentHttpResult>> ForgetAsync(HttpContext context, IHostLedger ledger, string id) =>
        await ledger.ForgetAsync(id) ? Back(id, "forgotten") : await MissingAsync(context, id);

    private static async Task<ContentHttpResult> PageAsync(HttpContext context, string id, string? flash, string? error, int status, bool confirmForget = false)
    {
        var services = context.RequestServices;
        var session = LoginEndpoints.SessionControls(context, services.GetRequiredService<Tokens>());
        if (services.GetRequiredService<HostRegistry>().Find(id) is not { } host)
        {
            return Html(HostPageView.RenderMissing(id, session, flash), StatusCodes.Status404NotFound);
        }

        var (store, cancellationToken) = (services.GetRequiredService<IHostStore>(), context.RequestAborted);
        var time = services.GetRequiredService<TimeProvider>();

        // What was acknowledged before this request (a change just made, say) is in the history it reads.
        await services.GetRequiredService<IStoreWriter>().FlushAsync(cancellationToken);
        var history = await StateHistory.ReadAsync(store, host, cancellationToken);
        var events = await store.ReadHostEventsAsync(id, IHostStore.HistoryPerHost, cancellationToken);
        var addresses = await store.ReadAddressHistoryAsync(id, IHostStore.HistoryPerHost, cancellationToken);
        var admin = await services.GetRequiredService<IAuthorizationService>().AuthorizeAsync(context.User, context, Access.Admin);
        var model = new HostPageModel(
            services.GetRequiredService<HostViews>().From(host, withBody: true),
            history,
            [.. addresses.Select(AddressChangeView.From)],
            [.. events.Reverse().Select(EventView.From)],
            services.GetRequiredService<Notifiers>().Targets.Count,
            admin.Succeeded,
            confirmForget,
            flash,
            error);
        return Html(HostPageView.Render(model, context, session, time), status);
    }

    private static Task<ContentHttpResult> MissingAsync(HttpContext context, string id) =>
        PageAsync(context, id, null, null, StatusCodes.Status404NotFound);

    private static RedirectHttpResult Back(string id, string done) =>
        TypedResults.Redirect($"/hosts/{Uri.EscapeDataString(id)}?done={done}");

    private static ContentHttpResult Html(string page, int status) =>
        TypedResults.Text(page, "text/html; charset=utf-8", Encoding.UTF8, status);

    // Read here, once RequireAntiforgery has passed the request, not bound before.
    private static async Task<IFormCollection> FormAsync(HttpContext context) =>
        context.Request.HasFormContentType ? await context.Request.ReadFormAsync(context.RequestAborted) : FormCollection.Empty;

    // The form's fields as the PATCH body they stand for, checked by the same code: an empty field is null (back to
    // what the host declares or the server learns), a duration such as 5m is its seconds, and a field not on the form
    // stays as it is.
    private static (HostSettingsChange? Change, string? Error) ReadSettings(IFormCollection form)
    {
        var body = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(body))
        {
            json.WriteStartObject();
            foreach (var name in SettingFields.Where(form.ContainsKey))
            {
                var text = form[name].ToString().Trim();
                json.WritePropertyName(name);
                if (text.Length == 0)
                {
                    json.WriteNullValue();
                }
                else if (name is "interval" or "grace" && Durations.TryParse(text, out var duration))
                {
                    json.WriteNumberValue(duration.TotalSeconds);
                }
                else if (name == "misses" && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var misses))
                {
                    json.WriteNumberValue(misses);
                }
                else
                {
                    json.WriteStringValue(text);
                }
            }

            json.WriteEndObject();
        }

        using var document = JsonDocument.Parse(body.WrittenMemory);
        var change = new HostSettingsChange();
        foreach (var field in document.RootElement.EnumerateObject())
        {
            if (!HostSettingsEndpoints.TryRead(field, ref change, out var error))
            {
                return (null, error);
            }
        }

        return (change, null);
    }
}
