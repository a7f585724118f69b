namespace Heartbeat.Server.Web;

internal static class ProblemResponses
{
    /// <summary>
    /// problem+json for every error answer. A request Kestrel could not read (broken chunked framing, a body
    /// arriving slower than MinRequestBodyDataRate, …) is the client's doing: it gets Kestrel's own 4xx and
    /// words, and no stack trace reaches the console. Anything else is still a 500, and logged.
    /// </summary>
    public static IServiceCollection AddProblemResponses(this IServiceCollection services) => services
        .AddProblemDetails(problems => problems.CustomizeProblemDetails = context =>
        {
            if (context.Exception is BadHttpRequestException unreadable)
            {
                context.ProblemDetails.Detail = unreadable.Message;
            }
        })
        .Configure<ExceptionHandlerOptions>(handler =>
        {
            handler.StatusCodeSelector = e => e is BadHttpRequestException unreadable ? unreadable.StatusCode : StatusCodes.Status500InternalServerError;
            handler.SuppressDiagnosticsCallback = context => context.Exception is BadHttpRequestException;
        });
}
