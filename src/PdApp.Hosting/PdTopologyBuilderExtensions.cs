using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PdApp.Hosting;
using PdApp.Hosting.Containers;
using PdApp.Hosting.Topology;

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

    /// <summary>Name of the secret parameter holding the key clients send to the proxy (<c>Pd:UseClientApiKey</c>).</summary>
    public const string ClientApiKeyParameterName = "pdapp-api-key";

    /// <summary>Name of the secret parameter holding the proxy's admin API key (<c>Pd:UseAdminApiKey</c>).</summary>
    public const string AdminApiKeyParameterName = "pdapp-admin-api-key";

    /// <summary>
    /// Name of the secret parameter simulators sign P2pNccl registrations with (the proxy's <c>Pd:Registry:SharedSecret</c>);
    /// generated and kept like the proxy's keys, declared only for the simulator backend.
    /// </summary>
    public const string RegistrySecretParameterName = "pdapp-registry-secret";

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
    /// Reads and validates the <c>Pd</c> section; when it is invalid, writes one line per problem (each naming
    /// its setting) to <paramref name="errors"/> instead of throwing, so the app host can exit with a clear
    /// message rather than a stack trace.
    /// </summary>
    /// <param name="builder">The application builder.</param>
    /// <param name="options">The valid options, or null.</param>
    /// <param name="errors">Where problems are reported (the app host passes standard error).</param>
    /// <returns>True when the section is valid.</returns>
    public static bool TryGetPdOptions(
        this IDistributedApplicationBuilder builder,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out PdOptions? options,
        TextWriter errors)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(errors);
        try
        {
            options = PdOptionsLoader.Load(builder.Configuration);
            return true;
        }
        catch (Microsoft.Extensions.Options.OptionsValidationException exception)
        {
            errors.WriteLine("The Pd configuration is invalid; fix these settings and start again:");
            foreach (var failure in exception.Failures)
            {
                errors.WriteLine($"  - {failure}");
            }

            options = null;
            return false;
        }
    }

    /// <summary>
    /// Resolves <c>Pd:Backend</c> (<c>auto</c>: vLLM when publishing or when Docker with NVIDIA GPUs is found,
    /// the simulator otherwise) and logs the choice and its reason when the app starts.
    /// </summary>
    /// <param name="builder">The application builder.</param>
    /// <param name="options">The validated options.</param>
    /// <param name="probe">The GPU probe; default: <see cref="DockerNvidiaProbe"/> on the runtime Aspire is configured with.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>The decision.</returns>
    /// <exception cref="PdBackendUnavailableException"><c>Pd:Backend</c> is vllm in run mode and no GPU container runtime was found.</exception>
    public static async Task<PdBackendDecision> ResolvePdBackendAsync(
        this IDistributedApplicationBuilder builder,
        PdOptions options,
        IGpuContainerRuntimeProbe? probe = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        probe ??= new DockerNvidiaProbe { Runtime = ContainerRuntimeSelection.FromConfiguration(builder.Configuration) };
        var resolver = new PdBackendResolver(probe);
        return await resolver.ResolveAsync(options.Backend, builder.ExecutionContext.IsPublishMode, cancellationToken, options.CheckGpuRuntime)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// In run mode, checks that every port the topology binds on this machine is free (proxy, registry,
    /// engines, KV ports, side channels); writes one line per taken port, naming its holder when known and
    /// the setting to change, to <paramref name="errors"/>. Publishing binds nothing and always passes.
    /// </summary>
    /// <param name="builder">The application builder.</param>
    /// <param name="options">The validated options.</param>
    /// <param name="decision">The resolved backend.</param>
    /// <param name="errors">Where the failures go (the console's error stream).</param>
    /// <returns>Whether every port is free (the app host exits with code 1 otherwise).</returns>
    public static bool CheckPdPortsAreFree(
        this IDistributedApplicationBuilder builder, PdOptions options, PdBackendDecision decision, TextWriter errors)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(decision);
        ArgumentNullException.ThrowIfNull(errors);
        if (builder.ExecutionContext.IsPublishMode)
        {
            return true;
        }

        var failures = PdPortPreflight.FindPortsInUse(PdPortPreflight.HostClaims(options, decision.Backend));
        if (failures.Count == 0)
        {
            return true;
        }

        errors.WriteLine("Ports the PD topology needs are taken; free them or move PdApp:");
        foreach (var failure in failures)
        {
            errors.WriteLine($"  - {failure}");
        }

        return false;
    }

    /// <summary>
    /// <see cref="ResolvePdBackendAsync"/> for a <c>Program.cs</c>: when the requested backend cannot run here, writes
    /// why and what to change to <paramref name="errors"/> and returns null (the app host then exits with code 1).
    /// </summary>
    /// <param name="builder">The application builder.</param>
    /// <param name="options">The validated options.</param>
    /// <param name="errors">Where the reason goes (the console's error stream).</param>
    /// <param name="probe">The GPU probe; default: <see cref="DockerNvidiaProbe"/>.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>The decision, or null when the backend cannot run.</returns>
    public static async Task<PdBackendDecision?> TryResolvePdBackendAsync(
        this IDistributedApplicationBuilder builder,
        PdOptions options,
        TextWriter errors,
        IGpuContainerRuntimeProbe? probe = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(errors);
        try
        {
            return await builder.ResolvePdBackendAsync(options, probe, cancellationToken).ConfigureAwait(false);
        }
        catch (PdBackendUnavailableException ex)
        {
            await errors.WriteLineAsync(ex.Message).ConfigureAwait(false);
            return null;
        }
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

        // Run mode only: compose and Kubernetes outputs carry their own download step (Deployment/ModelDownloadStep).
        var download = plan.Backend == PdBackend.Vllm && !builder.ExecutionContext.IsPublishMode
            ? PdModelDownload.TryAdd(builder, options, hfToken)
            : null;

        // Simulators sign their P2pNccl registrations; vLLM's engines cannot, so they get none (the proxy would refuse them).
        var registrySecret = plan.NeedsRegistry && plan.Backend == PdBackend.Simulator
            ? PdProxyBuilderExtensions.AddGeneratedSecret(builder, RegistrySecretParameterName)
            : null;
        var instances = new List<PdInstance>(plan.Instances.Count);
        foreach (var instance in plan.Instances)
        {
            var declared = plan.Backend switch
            {
                PdBackend.Vllm => PdEngineDeclarations.AddContainer(builder, options, instance, hfToken, apiKey, download),
                PdBackend.Simulator => PdEngineDeclarations.AddSimulator<TSimulator>(builder, options, instance, apiKey, registrySecret),
                _ => PdInstance.ForExternal(instance, builder.AddExternalService(instance.Name, instance.ExternalUrl!).WithHttpHealthCheck(VllmResource.HealthPath)),
            };
            PdTopologyDiagnostics.ShowInDashboard(builder, declared, plan, decision);
            instances.Add(declared);
        }

        PdTopologyDiagnostics.LogOnStart(builder, plan, decision);
        var topology = new PdTopology(plan, decision, instances, apiKey) { RegistrySecret = registrySecret };

        // Publishers (compose, Kubernetes) read the planned topology from the app's services.
        builder.Services.AddSingleton(topology);
        return topology;
    }
}
