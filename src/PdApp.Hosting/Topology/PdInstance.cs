using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using PdApp.Protocol;

namespace PdApp.Hosting.Topology;

/// <summary>One declared engine instance: a vLLM container, a simulator project or an external service.</summary>
public sealed class PdInstance
{
    private PdInstance(PdInstancePlan plan, IResource resource)
    {
        Plan = plan;
        Resource = resource;
    }

    /// <summary>What was planned for it.</summary>
    public PdInstancePlan Plan { get; }

    /// <summary>The resource name.</summary>
    public string Name => Plan.Name;

    /// <summary>The role.</summary>
    public PdRole Role => Plan.Role;

    /// <summary>The Aspire resource.</summary>
    public IResource Resource { get; }

    /// <summary>The builder of a container or project instance (service discovery by name); null for external instances.</summary>
    public IResourceBuilder<IResourceWithServiceDiscovery>? Service { get; private init; }

    /// <summary>The builder of an external instance; null otherwise.</summary>
    public IResourceBuilder<ExternalServiceResource>? External { get; private init; }

    /// <summary>The base URL the proxy uses, resolved by service discovery (e.g. <c>http://prefill-0</c>).</summary>
    public string ServiceDiscoveryAddress =>
        (Plan.ExternalUrl?.Scheme ?? Uri.UriSchemeHttp) + "://" + Name;

    internal static PdInstance ForService(PdInstancePlan plan, IResourceBuilder<IResourceWithServiceDiscovery> service) =>
        new(plan, service.Resource) { Service = service };

    internal static PdInstance ForExternal(PdInstancePlan plan, IResourceBuilder<ExternalServiceResource> external) =>
        new(plan, external.Resource) { External = external };
}
