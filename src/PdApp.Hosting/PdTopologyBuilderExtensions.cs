using System.Collections.Immutable;
using System.Globalization;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PdApp.Hosting;
using PdApp.Hosting.Topology;
using PdApp.Protocol;

namespace Aspire.Hosting;

/// <summary>Declares a whole xPyD prefill/decode topology from the <c>Pd</c> configuration section.</summary>
public static class PdTopologyBuilderExtensions
{
    /// <summary>The configuration key naming an extra JSON file with a <c>Pd</c> section (e.g. an example under <c>examples/</c>).</summary>
    public const string ConfigFileKey = "PdConfig";

    /// <summary>Name of the secret parameter holding the Hugging Face token.</summary>
    public const string HuggingFaceTokenParameterName = "hf-token";

    /// <summary>Name of the secret parameter holding the engines' API key.</summary>
    public const string ApiKeyParameterName = "vllm-api-key";

    /// <summary>Name of the proxy's P2pNccl registration endpoint.</summary>
    public const string RegistryEndpointName = "registry";

    private const string LoggerCategory = "PdApp.Topology";

    /// <summary>
    /// Adds the JSON file named by <c>--PdConfig &lt;file&gt;</c> (if given) to the configuration, then the
    /// command line again so that individual <c>--Pd:...</c> arguments still override the file.
    /// </summary>
    /// <param name="builder">The application builder.</param>
    /// <param name="args">The app host's command-line arguments.</param>
    /// <returns>The builder.</returns>
    public static IDistributedApplicationBuilder AddPdConfigurationFile(this IDistributedApplicationBuilder builder, string[] args)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(args);
        if (builder.Configuration[ConfigFileKey] is { Length: > 0 } file)
        {
            // Relative paths work from the current directory or the app host's folder (where `dotnet run` starts it).
            var path = new[] { Path.GetFullPath(file), Path.GetFullPath(Path.Combine(builder.AppHostDirectory, file)) }
                .FirstOrDefault(File.Exists)
                ?? throw new FileNotFoundException(
                    $"{ConfigFileKey} names '{file}', which exists neither in the current directory nor in {builder.AppHostDirectory}.", file);
            builder.Configuration.AddJsonFile(path, optional: false, reloadOnChange: false);
            builder.Configuration.AddCommandLine(args);
        }

        return builder;
    }

    /// <summary>Reads and validates the <c>Pd</c> section.</summary>
    /// <param name="builder">The application builder.</param>
    /// <returns>Valid options.</returns>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The section is invalid; the message names each setting.</exception>
    public static PdOptions GetPdOptions(this IDistributedApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return PdOptionsLoader.Load(builder.Configuration);
    }

    /// <summary>
    /// Resolves <c>Pd:Backend</c> (<c>auto</c>: vLLM when publishing or when Docker with NVIDIA GPUs is found,
    /// the simulator otherwise) and logs the choice and its reason when the app starts.
    /// </summary>
    /// <param name="builder">The application builder.</param>
    /// <param name="options">The validated options.</param>
    /// <param name="probe">The GPU probe; default: <see cref="DockerNvidiaProbe"/>.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>The decision.</returns>
    public static async Task<PdBackendDecision> ResolvePdBackendAsync(
        this IDistributedApplicationBuilder builder,
        PdOptions options,
        IGpuContainerRuntimeProbe? probe = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        var resolver = new PdBackendResolver(probe ?? new DockerNvidiaProbe());
        return await resolver.ResolveAsync(options.Backend, builder.ExecutionContext.IsPublishMode, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Declares <c>prefill-0..N-1</c> and <c>decode-0..M-1</c> for the chosen backend: vLLM containers, simulator
    /// projects (<typeparamref name="TSimulator"/>) with the same names, arguments and endpoints, or external services.
    /// Each is health-checked on <c>/health</c>.
    /// </summary>
    /// <typeparam name="TSimulator">The simulator project (<c>Projects.PdApp_Simulator</c>).</typeparam>
    /// <param name="builder">The application builder.</param>
    /// <param name="options">The validated options.</param>
    /// <param name="decision">The backend decision.</param>
    /// <returns>The declared topology.</returns>
    public static PdTopology AddPdInstances<TSimulator>(
        this IDistributedApplicationBuilder builder,
        PdOptions options,
        PdBackendDecision decision)
        where TSimulator : IProjectMetadata, new()
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(decision);

        var plan = PdTopologyPlan.Create(options, decision.Backend);
        var hfToken = options.UseHuggingFaceToken && plan.Backend == PdBackend.Vllm
            ? builder.AddParameter(HuggingFaceTokenParameterName, secret: true)
            : null;
        var apiKey = options.UseApiKey && plan.Backend != PdBackend.External
            ? builder.AddParameter(ApiKeyParameterName, secret: true)
            : null;

        var instances = new List<PdInstance>(plan.Instances.Count);
        foreach (var instance in plan.Instances)
        {
            var declared = plan.Backend switch
            {
                PdBackend.Vllm => AddContainer(builder, options, instance, hfToken, apiKey),
                PdBackend.Simulator => AddSimulator<TSimulator>(builder, options, instance, apiKey),
                _ => PdInstance.ForExternal(instance, builder.AddExternalService(instance.Name, instance.ExternalUrl!).WithHttpHealthCheck(VllmResource.HealthPath)),
            };
            ShowInDashboard(builder, declared, plan, decision);
            instances.Add(declared);
        }

        LogOnStart(builder, plan, decision);
        var topology = new PdTopology(plan, decision, instances, apiKey);

        // Publishers (compose, Kubernetes) read the planned topology from the app's services.
        builder.Services.AddSingleton(topology);
        return topology;
    }

    /// <summary>
    /// Points the PD proxy at every instance: a service-discovery reference to each (without <c>WaitFor</c>:
    /// models load for minutes and the proxy reports not-ready until instances are healthy), and the
    /// <see cref="PdProxySettings"/> keys as environment variables (<c>Pd__Connector</c>, <c>Pd__Model</c>,
    /// <c>Pd__Instances__{i}__Name|Role|Address|KvAddress</c>, <c>Pd__ChildConnectors__{i}</c>,
    /// <c>Pd__Registry__Port</c> with a <c>registry</c> TCP endpoint for P2pNccl, <c>Pd__UpstreamApiKey</c>).
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
        if (plan.Connector == KvConnectorNames.Multi)
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

        return proxy;
    }

    private static string Env(string key) => PdProxySettings.ToEnvironmentVariable(key);

    private static PdInstance AddContainer(
        IDistributedApplicationBuilder builder,
        PdOptions options,
        PdInstancePlan instance,
        IResourceBuilder<ParameterResource>? hfToken,
        IResourceBuilder<ParameterResource>? apiKey)
    {
        ImageReference.TryParse(PdImages.For(options), out var image);
        var vllm = builder.AddVllm(instance.Name, instance.Role, instance.Layout.Port, options.Model)
            .WithImage(image!.Image, image.Tag)
            .WithImageRegistry(image.Registry)
            .WithVllmEntrypoint(options.Entrypoint)
            .WithGpus([.. instance.Layout.GpuIds])
            .WithDataBindMount(options.DataPath)
            .WithPrivileged(options.Privileged);
        ApplyEngineArguments(vllm.Resource.Arguments, options, apiKey?.Resource);
        vllm.WithKvConnector(instance.KvConnector!);

        if (options.Capabilities is { Length: > 0 } capabilities)
        {
            vllm.WithCapabilities(capabilities.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }

        if (options.HostNetwork)
        {
            vllm.WithHostNetwork();
        }

        if (options.NetworkInterface is { } nic)
        {
            vllm.WithNetworkInterface(nic);
        }

        if (hfToken is not null)
        {
            vllm.WithHuggingFaceToken(hfToken);
        }

        if (options.HuggingFaceCachePath is { Length: > 0 } cache)
        {
            vllm.WithHuggingFaceCacheBindMount(cache);
        }

        return PdInstance.ForService(instance, vllm);
    }

    private static PdInstance AddSimulator<TSimulator>(
        IDistributedApplicationBuilder builder,
        PdOptions options,
        PdInstancePlan instance,
        IResourceBuilder<ParameterResource>? apiKey)
        where TSimulator : IProjectMetadata, new()
    {
        // The simulator takes vLLM's flags; it gets the container's command line, bound to loopback and to
        // the port Aspire assigns the endpoint (it honours --port over ASPNETCORE_URLS).
        var arguments = new VllmServeArguments { Port = instance.Layout.Port, Host = "127.0.0.1", Model = options.Model };
        ApplyEngineArguments(arguments, options, apiKey?.Resource);
        arguments.KvTransferConfigJson = instance.KvConnector!.ToJson();

        var simulator = builder.AddProject<TSimulator>(instance.Name, launchProfileName: null)
            .WithHttpEndpoint(port: instance.Layout.Port, name: VllmResource.HttpEndpointName);
        var endpoint = simulator.GetEndpoint(VllmResource.HttpEndpointName);
        simulator
            .WithArgs(context =>
            {
                foreach (var arg in arguments.Render(options.Entrypoint, includeLauncher: false, port: endpoint.Property(EndpointProperty.TargetPort)))
                {
                    context.Args.Add(arg);
                }
            })
            .WithEnvironment(context =>
            {
                foreach (var (key, value) in instance.KvConnector.EnvironmentVariables)
                {
                    context.EnvironmentVariables[key] = value;
                }
            })
            .WithHttpHealthCheck(VllmResource.HealthPath, endpointName: VllmResource.HttpEndpointName)
            .WithVllmDashboardUrls(VllmResource.HttpEndpointName);

        if (instance.KvConnector is PdApp.Hosting.KvConnectors.SharedStorageKvConnector shared)
        {
            Directory.CreateDirectory(shared.SharedStoragePath);
        }

        return PdInstance.ForService(instance, simulator);
    }

    private static void ApplyEngineArguments(VllmServeArguments arguments, PdOptions options, ParameterResource? apiKey)
    {
        arguments.Model = options.Model;
        arguments.ServedModelName = options.ServedModelName;
        arguments.MaxModelLen = options.MaxModelLen;
        arguments.GpuMemoryUtilization = options.GpuMemoryUtilization;
        arguments.TensorParallelSize = options.TensorParallelSize;
        arguments.PipelineParallelSize = options.PipelineParallelSize > 1 ? options.PipelineParallelSize : null;
        arguments.TrustRemoteCode = options.TrustRemoteCode;
        arguments.ApiKey = apiKey;
        foreach (var arg in options.ExtraArgs)
        {
            arguments.ExtraArgs.Add(arg);
        }
    }

    private static void ShowInDashboard(IDistributedApplicationBuilder builder, PdInstance instance, PdTopologyPlan plan, PdBackendDecision decision)
    {
        var properties = ImmutableArray.Create(
            new ResourcePropertySnapshot("pd.role", instance.Role.ToConfigName()) { DisplayName = "PD role", IsHighlighted = true },
            new ResourcePropertySnapshot("pd.connector", plan.Connector) { DisplayName = "KV connector", IsHighlighted = true },
            new ResourcePropertySnapshot("pd.gpus", plan.Backend == PdBackend.Vllm ? string.Join(',', instance.Plan.Layout.GpuIds) : "none") { DisplayName = "GPU ids" },
            new ResourcePropertySnapshot("pd.backend", decision.Backend.ToString().ToLowerInvariant()) { DisplayName = "PD backend" },
            new ResourcePropertySnapshot("pd.backend.reason", decision.Reason) { DisplayName = "PD backend reason" });

        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(instance.Resource, (e, _) =>
            e.Services.GetRequiredService<ResourceNotificationService>().PublishUpdateAsync(
                instance.Resource,
                snapshot => snapshot with { Properties = [.. snapshot.Properties.Where(p => !p.Name.StartsWith("pd.", StringComparison.Ordinal)), .. properties] }));
    }

    private static void LogOnStart(IDistributedApplicationBuilder builder, PdTopologyPlan plan, PdBackendDecision decision)
    {
        builder.Eventing.Subscribe<BeforeStartEvent>((e, _) =>
        {
            var logger = e.Services.GetRequiredService<ILoggerFactory>().CreateLogger(LoggerCategory);
            logger.LogInformation("PD backend {Backend}: {Reason}", decision.Backend, decision.Reason);
            foreach (var instance in plan.Instances)
            {
                logger.LogInformation(
                    "PD instance {Name}: role {Role}, connector {Connector}, port {Port}, GPUs {Gpus}, KV address {KvAddress}",
                    instance.Name,
                    instance.Role,
                    plan.Connector,
                    instance.Layout.Port,
                    plan.Backend == PdBackend.Vllm ? string.Join(',', instance.Layout.GpuIds) : "none",
                    instance.KvConnector?.KvAddress ?? "-");
            }

            return Task.CompletedTask;
        });
    }
}
