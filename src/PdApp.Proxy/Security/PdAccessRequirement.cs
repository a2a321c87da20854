using Microsoft.AspNetCore.Authorization;

namespace PdApp.Proxy.Security;

/// <summary>What a policy asks of the caller: the client or the admin role, when that key is configured.</summary>
/// <param name="Admin">True for the admin policy.</param>
internal sealed record PdAccessRequirement(bool Admin) : IAuthorizationRequirement;

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
