using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using PdApp.Protocol;
using PdApp.Proxy.Admin;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the PD proxy's admin API.</summary>
public static class AdminEndpointRouteBuilderExtensions
{
    /// <summary>The admin API's route prefix.</summary>
    public const string InstancesPath = PdAdminRoutes.Instances;

    /// <summary>
    /// Maps <c>/admin/instances</c>, protected by <c>Pd:AdminApiKey</c> (<c>Authorization: Bearer</c>;
    /// without a configured key every route answers 404):
    /// <list type="bullet">
    /// <item><c>GET /admin/instances</c>: every instance (name, role, address, kvAddress, source,
    /// healthy, draining, ejectedUntil, outstanding, load).</item>
    /// <item><c>GET /admin/instances/{name}</c>: one instance.</item>
    /// <item><c>POST /admin/instances</c> <c>{"name","role","address","kvAddress"}</c>: adds one (201; 409 when the name exists).</item>
    /// <item><c>DELETE /admin/instances/{name}</c>: removes it now (204); requests already running finish.
    /// With <c>?drain=true</c> it stops getting new requests and is removed once its last request
    /// ends (202), or at once (204) when idle.</item>
    /// <item><c>POST /admin/instances/{name}/drain</c>: stops new requests and keeps the instance
    /// (e.g. for maintenance); <c>/undrain</c> puts it back (and cancels a pending drain-and-remove).</item>
    /// </list>
    /// Errors use OpenAI's error JSON. Requires <c>AddPdRouting</c>. A removed instance that a
    /// discovery source still announces comes back: a P2pNccl registration at its next ping, a DNS
    /// record at the next resolution; a <c>Pd:Instances</c> entry stays removed until its resolved
    /// address changes. Drain such instances instead to keep them out of rotation.
    /// </summary>
    /// <param name="endpoints">The endpoint route builder.</param>
    /// <returns>The builder, for chaining.</returns>
    public static IEndpointRouteBuilder MapPdAdmin(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);

        var group = endpoints.MapGroup(InstancesPath)
            .AddEndpointFilter<AdminApiKeyFilter>()
            .ExcludeFromDescription();
        group.MapGet("", AdminInstanceHandlers.List);
        group.MapPost("", AdminInstanceHandlers.AddAsync);
        group.MapGet(PdAdminRoutes.InstanceTemplate, AdminInstanceHandlers.Get);
        group.MapDelete(PdAdminRoutes.InstanceTemplate, AdminInstanceHandlers.Delete);
        group.MapPost(PdAdminRoutes.DrainTemplate, AdminInstanceHandlers.Drain);
        group.MapPost(PdAdminRoutes.UndrainTemplate, AdminInstanceHandlers.Undrain);
        return endpoints;
    }
}
