using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace PdApp.Proxy.Security;

/// <summary>
/// The <see cref="PdAccess.Scheme"/> scheme: reads <c>Authorization: Bearer &lt;key&gt;</c> and
/// grants the role of each configured key it matches (client, admin). Every configured key is
/// compared, in constant time, whatever matched first. No header: no result (the policies decide
/// whether anonymous is enough); a key matching nothing: failure.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions,
    ILoggerFactory loggers,
    UrlEncoder encoder,
    ApiKeys keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, loggers, encoder)
{
    private const string BearerPrefix = "Bearer ";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (header.Length == 0)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (!header.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(AuthenticateResult.Fail("Not a bearer key."));
        }

        var presented = ApiKeyDigest.Hash(header.AsSpan(BearerPrefix.Length).Trim());
        var client = keys.Client?.Matches(presented) == true;
        var admin = keys.Admin?.Matches(presented) == true;
        if (!client && !admin)
        {
            return Task.FromResult(AuthenticateResult.Fail("Unknown key."));
        }

        var claims = new List<Claim>(2);
        if (client)
        {
            claims.Add(new Claim(ClaimTypes.Role, PdAccess.ClientRole));
        }

        if (admin)
        {
            claims.Add(new Claim(ClaimTypes.Role, PdAccess.AdminRole));
        }

        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, PdAccess.Scheme));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, PdAccess.Scheme)));
    }
}
