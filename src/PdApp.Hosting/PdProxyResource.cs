using Aspire.Hosting.ApplicationModel;
using PdApp.Protocol;

namespace PdApp.Hosting;

/// <summary>
/// The PD proxy: the OpenAI-compatible gateway that sends each request to a prefill instance, then streams it
/// from a decode instance. A .NET project resource (started with <c>dotnet run</c> in run mode, published as a
/// project), typed so that its names, paths and settings are declared once, here.
/// </summary>
/// <param name="name">The resource name (<see cref="DefaultName"/> in the PdApp app host).</param>
public class PdProxyResource(string name) : ProjectResource(name)
{
    /// <summary>The resource name the PdApp app host gives the proxy.</summary>
    public const string DefaultName = "proxy";

    /// <summary>Name of the OpenAI-compatible HTTP endpoint (<c>/v1</c>, <c>/metrics</c>, <c>/admin</c>, health).</summary>
    public const string HttpEndpointName = "http";

    /// <summary>Name of the P2pNccl registration (ZeroMQ) endpoint, declared only for connectors that need it.</summary>
    public const string RegistryEndpointName = "registry";

    /// <summary>The TCP endpoint LMCache senders push "KV ready" notifications to (<c>pd_proxy_port</c>).</summary>
    public const string KvReadyEndpointName = "kv-ready";

    /// <summary>Readiness path (the service defaults' <c>/health</c>): 200 once every role has a healthy instance.</summary>
    public const string HealthPath = "/health";

    /// <summary>Liveness path (the service defaults' <c>/alive</c>): 200 while the process runs.</summary>
    public const string AlivePath = "/alive";

    /// <summary>
    /// The configuration section holding the proxy's own behaviour (timeouts, admission, balancing, health checks).
    /// The app host forwards its whole <c>Pd:Proxy</c> subsection to the proxy under the same keys.
    /// </summary>
    public const string ConfigurationSection = PdProxySettings.Proxy;

    private EndpointReference? _httpEndpoint;

    /// <summary>The OpenAI-compatible HTTP endpoint.</summary>
    public EndpointReference HttpEndpoint => _httpEndpoint ??= new(this, HttpEndpointName);
}
