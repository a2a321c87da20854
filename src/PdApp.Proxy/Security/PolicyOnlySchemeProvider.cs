using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace PdApp.Proxy.Security;

/// <summary>
/// The scheme provider without ASP.NET Core's automatic default: with one scheme registered
/// (<see cref="PdAccess.Scheme"/>) it would become the default authenticate scheme, and the
/// authentication middleware would run the key handler on every request, open <c>/v1</c> routes and
/// health probes included. Here only a default configured explicitly counts, so the scheme runs only
/// where an endpoint's policy names it (bench/RESULTS.md 4.13). Scoped to this application's services,
/// unlike the process-wide <c>SuppressAutoDefaultScheme</c> switch.
/// </summary>
internal sealed class PolicyOnlySchemeProvider(IOptions<AuthenticationOptions> options) : AuthenticationSchemeProvider(options)
{
    private readonly AuthenticationOptions _options = options.Value;

    /// <inheritdoc />
    public override Task<AuthenticationScheme?> GetDefaultAuthenticateSchemeAsync() =>
        (_options.DefaultAuthenticateScheme ?? _options.DefaultScheme) is { } name
            ? GetSchemeAsync(name)
            : Task.FromResult<AuthenticationScheme?>(null);
}
