using System.Globalization;
using Aspire.Hosting.ApplicationModel;
using PdApp.Hosting.Topology;
using PdApp.Protocol;

namespace Aspire.Hosting;

/// <summary>Wires the PD proxy to a declared topology.</summary>
public static class PdProxyBuilderExtensions
{
    /// <summary>Name of the proxy's P2pNccl registration (ZeroMQ) endpoint.</summary>
    public const string RegistryEndpointName = "registry";

    /// <summary>
    /// Points the PD proxy at every instance: a service-discovery reference to each (without <c>WaitFor</c>:
    /// models load for minutes and the proxy reports not-ready until instances are healthy), and the
    /// <see cref="PdProxySettings"/> keys as environment variables (<c>Pd__Connector</c>, <c>Pd__Model</c>,
    /// <c>Pd__Instances__{i}__Name|Role|Address|KvAddress</c>, <c>Pd__ChildConnectors__{i}</c>,
    /// <c>Pd__Registry__Port</c> with a <c>registry</c> TCP endpoint for P2pNccl, <c>Pd__UpstreamApiKey</c>), and, when
    /// <c>Pd:UseClientApiKey</c> / <c>Pd:UseAdminApiKey</c> are set, <c>Pd__ApiKey</c> / <c>Pd__AdminApiKey</c> from the
    /// secret parameters <see cref="PdTopologyBuilderExtensions.ClientApiKeyParameterName"/> /
    /// <see cref="PdTopologyBuilderExtensions.AdminApiKeyParameterName"/>.
    /// </summary>
    /// <param name="proxy">The proxy project.</param>
    /// <param name="topology">The declared topology.</param>
    /// <returns>The proxy builder.</returns>
    public static IResourceBuilder<ProjectResource> WithPdInstances(this IResourceBuilder<ProjectResource> proxy, PdTopology topology)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        ArgumentNullException.ThrowIfNull(topology);
        var plan = topology.Plan;

        proxy.WithEnvironment(Env(PdProxySettings.Connector), plan.Connector)
             .WithEnvironment(Env(PdProxySettings.Model), plan.ServedModelName);
        if (plan.ConnectorTraits.IsComposite)
        {
            for (var i = 0; i < plan.Options.Multi.Connectors.Count; i++)
            {
                proxy.WithEnvironment(Env($"{PdProxySettings.ChildConnectors}:{i}"), plan.Options.Multi.Connectors[i]);
            }
        }

        for (var i = 0; i < topology.Instances.Count; i++)
        {
            var instance = topology.Instances[i];
            var prefix = $"{PdProxySettings.Instances}:{i.ToString(CultureInfo.InvariantCulture)}:";
            proxy.WithEnvironment(Env(prefix + PdProxySettings.InstanceName), instance.Name)
                 .WithEnvironment(Env(prefix + PdProxySettings.InstanceRole), instance.Role.ToString())
                 .WithEnvironment(Env(prefix + PdProxySettings.InstanceAddress), instance.ServiceDiscoveryAddress);
            if (instance.Plan.KvConnector?.KvAddress is { } kvAddress)
            {
                proxy.WithEnvironment(Env(prefix + PdProxySettings.InstanceKvAddress), kvAddress);
            }

            if (instance.Service is { } service)
            {
                proxy.WithReference(service);
            }
            else if (instance.External is { } external)
            {
                proxy.WithReference(external);
            }
        }

        if (plan.NeedsRegistry)
        {
            // Instances connect to it on a fixed port they were given at start-up, so it is not proxied.
            var port = plan.Options.RegistryPort;
            proxy.WithEndpoint(port: port, targetPort: port, scheme: "tcp", name: RegistryEndpointName, isProxied: false)
                 .WithEnvironment(Env(PdProxySettings.RegistryPort), port.ToString(CultureInfo.InvariantCulture));
        }

        if (topology.ApiKey is { } apiKey)
        {
            proxy.WithEnvironment(Env(PdProxySettings.UpstreamApiKey), apiKey);
        }

        if (plan.Options.UseClientApiKey)
        {
            proxy.WithEnvironment(
                Env(PdProxySettings.ApiKey),
                AddGeneratedSecret(proxy.ApplicationBuilder, PdTopologyBuilderExtensions.ClientApiKeyParameterName));
        }

        if (plan.Options.UseAdminApiKey)
        {
            proxy.WithEnvironment(
                Env(PdProxySettings.AdminApiKey),
                AddGeneratedSecret(proxy.ApplicationBuilder, PdTopologyBuilderExtensions.AdminApiKeyParameterName));
        }

        return proxy;
    }

    private static string Env(string key) => PdProxySettings.ToEnvironmentVariable(key);

    /// <summary>
    /// A secret parameter that, in run mode, Aspire generates once and persists in the app host's user secrets
    /// (as its own integrations do for passwords) unless configuration gives <c>Parameters:{name}</c>; in publish
    /// mode it stays a parameter (the manifest's input, compose's <c>.env</c>, Kubernetes' Secret), never a literal.
    /// </summary>
    internal static IResourceBuilder<ParameterResource> AddGeneratedSecret(IDistributedApplicationBuilder builder, string name) =>
        builder.AddParameter(name, new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true, persist: true);
}
