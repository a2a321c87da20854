using System.Globalization;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;
using PdApp.Hosting;
using PdApp.Hosting.Topology;
using PdApp.Protocol;

namespace Aspire.Hosting;

/// <summary>Adds the PD proxy to an Aspire application and wires it to a declared topology.</summary>
public static class PdProxyBuilderExtensions
{
    // Last key segments that name secrets; such settings must come from secret parameters.
    private static readonly string[] SecretSuffixes = ["ApiKey", "Password", "Secret", "Token"];

    private const string ShutdownDrainDelayKey = "Pd:Proxy:ShutdownDrainDelaySeconds";

    /// <summary>
    /// Adds the PD proxy project <typeparamref name="TProject"/> as a <see cref="PdProxyResource"/>: its HTTP endpoint
    /// <see cref="PdProxyResource.HttpEndpointName"/> (on <paramref name="port"/> when given), a health check on
    /// <see cref="PdProxyResource.HealthPath"/>, and every key of the app host's <c>Pd:Proxy</c> configuration
    /// subsection forwarded as an environment variable under the same key (<c>Pd__Proxy__Timeouts__ConnectSeconds</c>,
    /// ...), so one <c>Pd</c> section (appsettings, <c>--PdConfig</c> file, command line) configures engines and proxy.
    /// </summary>
    /// <typeparam name="TProject">The proxy project (<c>Projects.PdApp_Proxy</c>).</typeparam>
    /// <param name="builder">The application builder.</param>
    /// <param name="name">The resource name (<see cref="PdProxyResource.DefaultName"/> in the PdApp app host).</param>
    /// <param name="port">The host port of the HTTP endpoint; null keeps the project's launch profile port.</param>
    /// <returns>The proxy's resource builder; continue with <see cref="WithPdInstances"/>.</returns>
    /// <exception cref="InvalidOperationException">
    /// A <c>Pd:Proxy</c> key names a secret (<c>...ApiKey</c>, <c>...Password</c>, <c>...Secret</c>, <c>...Token</c>):
    /// secrets reach the proxy only as secret parameters, never as literals written into published outputs.
    /// </exception>
    /// <remarks>
    /// The proxy does not <c>WaitFor</c> its instances: models load for minutes, and the proxy reports not-ready on
    /// <see cref="PdProxyResource.HealthPath"/> until its instances are healthy. In run mode, unless configured, the
    /// proxy's shutdown drain delay (<c>Pd:Proxy:ShutdownDrainDelaySeconds</c>) is 0: nothing routes on its health locally.
    /// </remarks>
    public static IResourceBuilder<PdProxyResource> AddPdProxy<TProject>(
        this IDistributedApplicationBuilder builder,
        [ResourceName] string name,
        int? port = null)
        where TProject : IProjectMetadata, new()
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (port is { } value)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value, nameof(port));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 65535, nameof(port));
        }

        var settings = ProxySettingsFrom(builder.Configuration.GetSection(PdProxyResource.ConfigurationSection));
        // WithProjectDefaults is what AddProject applies (launch profile, endpoints, OTLP, Kestrel overrides), offered
        // for integrations with their own project resource type; it is marked experimental in Aspire 13.
#pragma warning disable ASPIREPROJECTS001
        var proxy = builder.AddResource(new PdProxyResource(name))
            .WithAnnotation<IProjectMetadata>(new TProject())
            .WithProjectDefaults(new ProjectResourceOptions());
#pragma warning restore ASPIREPROJECTS001

        // The launch profile declares the endpoint when it has one; a project without one still gets it.
        if (!proxy.Resource.Annotations.OfType<EndpointAnnotation>().Any(e => e.Name == PdProxyResource.HttpEndpointName))
        {
            proxy.WithHttpEndpoint(name: PdProxyResource.HttpEndpointName);
        }

        if (port is { } hostPort)
        {
            proxy.WithEndpoint(PdProxyResource.HttpEndpointName, endpoint => endpoint.Port = hostPort);
        }

        proxy.WithHttpHealthCheck(PdProxyResource.HealthPath, endpointName: PdProxyResource.HttpEndpointName);
        foreach (var (key, setting) in settings)
        {
            proxy.WithEnvironment(Env(key), setting);
        }

        // The proxy's drain delay (default 5 s of /health answering 503 before its listener closes) is for load
        // balancers and orchestrators that route on /health. A local run has none: Aspire stops everything at once,
        // and the delay would only make every stop and restart slower. Published deployments keep the default.
        if (!builder.ExecutionContext.IsPublishMode
            && !settings.Any(s => string.Equals(s.Key, ShutdownDrainDelayKey, StringComparison.OrdinalIgnoreCase)))
        {
            proxy.WithEnvironment(Env(ShutdownDrainDelayKey), "0");
        }

        return proxy;
    }

    /// <summary>
    /// Points the PD proxy at every instance: a service-discovery reference to each (without <c>WaitFor</c>:
    /// models load for minutes and the proxy reports not-ready until instances are healthy), and the
    /// <see cref="PdProxySettings"/> keys as environment variables (<c>Pd__Connector</c>, <c>Pd__Model</c>,
    /// <c>Pd__Instances__{i}__Name|Role|Address|KvAddress</c>, <c>Pd__ChildConnectors__{i}</c>,
    /// <c>Pd__Registry__Port</c> with a <see cref="PdProxyResource.RegistryEndpointName"/> TCP endpoint for P2pNccl,
    /// <c>Pd__LMCache__NotificationPort</c> with a <see cref="PdProxyResource.KvReadyEndpointName"/> TCP endpoint for LMCache,
    /// an LMCache receiver's <c>Pd__Instances__{i}__KvAllocPort|KvRanks</c>, <c>Pd__UpstreamApiKey</c>, with <c>Pd:KvEvents</c>
    /// on <c>Pd__Proxy__KvCache__Enabled</c> and each engine's <c>Pd__Proxy__KvCache__Endpoints__{name}__Endpoint|ReplayEndpoint</c>
    /// from its <see cref="VllmResource.KvEventsEndpointName"/> / <see cref="VllmResource.KvEventsReplayEndpointName"/> endpoints), and, when
    /// <c>Pd:UseClientApiKey</c> / <c>Pd:UseAdminApiKey</c> are set, <c>Pd__ApiKey</c> / <c>Pd__AdminApiKey</c> from the
    /// secret parameters <see cref="PdTopologyBuilderExtensions.ClientApiKeyParameterName"/> /
    /// <see cref="PdTopologyBuilderExtensions.AdminApiKeyParameterName"/>.
    /// </summary>
    /// <param name="proxy">The proxy.</param>
    /// <param name="topology">The declared topology.</param>
    /// <returns>The proxy builder.</returns>
    public static IResourceBuilder<PdProxyResource> WithPdInstances(this IResourceBuilder<PdProxyResource> proxy, PdTopology topology)
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

            foreach (var (key, value) in instance.Plan.KvConnector?.ProxyInstanceSettings ?? new Dictionary<string, string>())
            {
                proxy.WithEnvironment(Env(prefix + key), value);
            }

            if (instance.Service is { } service)
            {
                proxy.WithReference(service);
                if (plan.Options.KvEvents.IsEnabled)
                {
                    AddKvEventsEndpointSettings(proxy, instance.Name, service.Resource, plan.Options.KvEvents.Replay);
                }
            }
            else if (instance.External is { } external)
            {
                proxy.WithReference(external);
            }
        }

        if (plan.Options.KvEvents.IsEnabled && plan.Backend != PdBackend.External)
        {
            proxy.WithEnvironment(Env(PdProxySettings.KvCacheEnabled), "true");
        }

        if (plan.Options.KvEvents.BlockSize is { } blockSize)
        {
            proxy.WithEnvironment(Env(PdProxySettings.KvCacheBlockSize), blockSize.ToString(CultureInfo.InvariantCulture));
        }

        if (plan.NeedsRegistry)
        {
            // Instances connect to it on a fixed port they were given at start-up, so it is not proxied.
            var port = plan.Options.RegistryPort;
            proxy.WithEndpoint(port: port, targetPort: port, scheme: "tcp", name: PdProxyResource.RegistryEndpointName, isProxied: false)
                 .WithEnvironment(Env(PdProxySettings.RegistryPort), port.ToString(CultureInfo.InvariantCulture));

            // Anyone who can register gets prompts (and, once verified, the engines' key): bind to the instances'
            // network and accept only the addresses the topology gives them (local runs; see PdRegistryAccess).
            if (!proxy.ApplicationBuilder.ExecutionContext.IsPublishMode)
            {
                var access = PdRegistryAccess.For(plan);
                proxy.WithEnvironment(Env(PdProxySettings.RegistryBindAddress), access.BindAddress);
                for (var i = 0; i < access.AllowedHosts.Count; i++)
                {
                    proxy.WithEnvironment(Env($"{PdProxySettings.RegistryAllowedNetworks}:{i.ToString(CultureInfo.InvariantCulture)}"), access.AllowedHosts[i]);
                }
            }

            if (topology.RegistrySecret is { } registrySecret)
            {
                proxy.WithEnvironment(Env(PdProxySettings.RegistrySharedSecret), registrySecret);
            }
        }

        if (plan.NeedsKvReadyNotifications)
        {
            // LMCache senders push to it on the fixed pd_proxy_port they were given at start-up.
            var port = plan.Options.LMCache.NotificationPort;
            proxy.WithEndpoint(port: port, targetPort: port, scheme: "tcp", name: PdProxyResource.KvReadyEndpointName, isProxied: false)
                 .WithEnvironment(Env(PdProxySettings.LMCacheNotificationPort), port.ToString(CultureInfo.InvariantCulture))

                 // What every decode-0-like receiver listens on: the ports a cluster's decode pods share (their
                 // instances are found through DNS, without per-instance KV settings).
                 .WithEnvironment(Env(PdProxySettings.LMCacheInitPort), plan.Options.LMCache.InitBasePort.ToString(CultureInfo.InvariantCulture))
                 .WithEnvironment(Env(PdProxySettings.LMCacheAllocPort), plan.Options.LMCache.AllocBasePort.ToString(CultureInfo.InvariantCulture))
                 .WithEnvironment(Env(PdProxySettings.LMCacheRanks), Math.Max(1, plan.Options.TensorParallelSize).ToString(CultureInfo.InvariantCulture));
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
    /// <c>Pd:Proxy:KvCache:Endpoints:{instance}:Endpoint</c> (and <c>:ReplayEndpoint</c>) from the engine's KV event
    /// endpoints, as references: the dashboard's allocated address in run mode, the service name in compose.
    /// </summary>
    private static void AddKvEventsEndpointSettings(IResourceBuilder<PdProxyResource> proxy, string instance, IResource engine, bool replay)
    {
        if (engine is not IResourceWithEndpoints withEndpoints)
        {
            return;
        }

        var prefix = $"{PdProxySettings.KvCacheEndpoints}:{instance}:";
        proxy.WithEnvironment(Env(prefix + PdProxySettings.KvCacheEndpoint), Tcp(new EndpointReference(withEndpoints, VllmResource.KvEventsEndpointName)));
        if (replay)
        {
            proxy.WithEnvironment(Env(prefix + PdProxySettings.KvCacheReplayEndpoint), Tcp(new EndpointReference(withEndpoints, VllmResource.KvEventsReplayEndpointName)));
        }

        // NetMQ connects to an address; the IPv4 host avoids "localhost" resolving to ::1 while the engine binds IPv4.
        static ReferenceExpression Tcp(EndpointReference endpoint) =>
            ReferenceExpression.Create($"tcp://{endpoint.Property(EndpointProperty.IPV4Host)}:{endpoint.Property(EndpointProperty.Port)}");
    }

    /// <summary>
    /// Every key with a value under <paramref name="section"/> (the app host's <c>Pd:Proxy</c>), with its full path, in
    /// the configuration's order; refuses keys that name secrets.
    /// </summary>
    internal static IReadOnlyList<KeyValuePair<string, string>> ProxySettingsFrom(IConfigurationSection section)
    {
        var settings = new List<KeyValuePair<string, string>>();
        foreach (var (key, value) in section.AsEnumerable().OrderBy(e => e.Key, StringComparer.OrdinalIgnoreCase))
        {
            if (value is null)
            {
                continue;
            }

            var leaf = key[(key.LastIndexOf(':') + 1)..];
            if (SecretSuffixes.Any(suffix => leaf.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)))
            {
                throw new InvalidOperationException(
                    $"{key} looks like a secret; the app host forwards Pd:Proxy settings as plain environment variables, which " +
                    "publishing writes into compose files and ConfigMaps. Give secrets as parameters instead " +
                    "(Pd:UseClientApiKey, Pd:UseAdminApiKey, Pd:UseApiKey).");
            }

            settings.Add(new(key, value));
        }

        return settings;
    }

    /// <summary>
    /// A secret parameter that, in run mode, Aspire generates once and persists in the app host's user secrets
    /// (as its own integrations do for passwords) unless configuration gives <c>Parameters:{name}</c>; in publish
    /// mode it stays a parameter (the manifest's input, compose's <c>.env</c>, Kubernetes' Secret), never a literal.
    /// </summary>
    internal static IResourceBuilder<ParameterResource> AddGeneratedSecret(IDistributedApplicationBuilder builder, string name) =>
        builder.AddParameter(name, new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true, persist: true);
}
