using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Heartbeat.Server.Security;

// A read or admin token as a principal. Any other token is no answer (it may be a beat token), never an error.
internal sealed class TokenAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, Tokens tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync() => Task.FromResult(
        Access.CredentialOf(Request) is { } token && tokens.AccessOf(token) is { } access
            ? AuthenticateResult.Success(new AuthenticationTicket(Access.Principal(access, Scheme.Name), Scheme.Name))
            : AuthenticateResult.NoResult());
}
