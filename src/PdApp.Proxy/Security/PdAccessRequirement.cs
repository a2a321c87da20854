using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace PdApp.Proxy.Security;

/// <summary>What a policy asks of the caller: the client or the admin role, when that key is configured.</summary>
/// <param name="Admin">True for the admin policy.</param>
internal sealed record PdAccessRequirement(bool Admin) : IAuthorizationRequirement;

/// <summary>What <c>/metrics</c> asks of the caller (<see cref="MetricsAccess"/>); refused like a client (401).</summary>
internal sealed record PdMetricsRequirement : IAuthorizationRequirement;

/// <summary>Decides <see cref="PdMetricsRequirement"/> from <c>Pd:MetricsAccess</c> and the configured keys.</summary>
internal sealed class PdMetricsAccessHandler(ApiKeys keys, IOptions<ApiKeyOptions> options) : AuthorizationHandler<PdMetricsRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, PdMetricsRequirement requirement)
    {
        var access = options.Value.MetricsAccess;
        var allowed = access == MetricsAccess.Open
            || (access == MetricsAccess.Auto && keys.Client is null && keys.Admin is null)
            || context.User.IsInRole(PdAccess.AdminRole)
            || (keys.Admin is null && keys.Client is not null && context.User.IsInRole(PdAccess.ClientRole));
        if (allowed)
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}

/// <summary>
/// Decides <see cref="PdAccessRequirement"/>: the client policy lets everyone through while no
/// client key is configured; the admin policy never does while no admin key is configured.
/// </summary>
internal sealed class PdAccessHandler(ApiKeys keys) : AuthorizationHandler<PdAccessRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, PdAccessRequirement requirement)
    {
        var allowed = requirement.Admin
            ? keys.Admin is not null && context.User.IsInRole(PdAccess.AdminRole)
            : keys.Client is null || context.User.IsInRole(PdAccess.ClientRole);
        if (allowed)
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}
