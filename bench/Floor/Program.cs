using System.Text.Json;
using System.Text.Json.Serialization;

// Usage: floor PORT. Listens on 127.0.0.1 only; logs nothing per request.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost.UseUrls($"http://127.0.0.1:{(args.Length > 0 ? args[0] : "7780")}");

var app = builder.Build();
app.MapPost("/", async (HttpRequest request) =>
{
    try
    {
        var beat = await request.ReadFromJsonAsync(FloorJson.Default.Beat, request.HttpContext.RequestAborted);
        return beat?.Ip is null ? Results.BadRequest() : Results.Ok();
    }
    catch (JsonException)
    {
        return Results.BadRequest();
    }
});
app.MapGet("/healthz", () => "ok");
app.Run();

internal sealed record Beat(string? Ip, string? Host);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(Beat))]
internal sealed partial class FloorJson : JsonSerializerContext;
