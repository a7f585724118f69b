using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Diagnostics;

namespace Heartbeat.Server.Web;

internal static class ProblemResponses
{
    public static IServiceCollection AddProblemResponses(this IServiceCollection services) => services
        .AddProblemDetails()
        .AddExceptionHandler<ClientFaults>();
}

// problem+json for every error answer. What the client did wrong below the level of the endpoints is answered
// as the client's doing, with no stack trace on the console: a request Kestrel could not read (broken chunked
// framing, a body slower than MinRequestBodyDataRate, …) gets Kestrel's own 4xx and words, and a client that
// hung up mid-body gets its connection closed. Anything else is still a 500, and logged.
internal sealed class ClientFaults(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        switch (exception)
        {
            case ConnectionResetException:
                // Nobody is left to read an answer, and draining the rest of the body would fail too.
                context.Abort();
                return true;
            case BadHttpRequestException unreadable:
                context.Response.StatusCode = unreadable.StatusCode;
                return await problems.TryWriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context,
                    Exception = exception,
                    ProblemDetails = { Status = unreadable.StatusCode, Detail = unreadable.Message },
                });
            default:
                return false;
        }
    }
}
