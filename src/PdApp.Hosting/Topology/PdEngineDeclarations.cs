using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using PdApp.Hosting.KvConnectors;

namespace PdApp.Hosting.Topology;

/// <summary>Declares one planned instance as a vLLM container or as a simulator project with the same command line.</summary>
internal static class PdEngineDeclarations
{
    internal static PdInstance AddContainer(
        IDistributedApplicationBuilder builder,
        PdOptions options,
        PdInstancePlan instance,
        IResourceBuilder<ParameterResource>? hfToken,
        IResourceBuilder<ParameterResource>? apiKey,
        IResourceBuilder<ContainerResource>? modelDownload = null)
    {
        var imageName = PdImages.For(options);
        ImageReference.TryParse(imageName, out var image);
        var vllm = builder.AddVllm(instance.Name, instance.Role, instance.Layout.Port, options.Model)
            .WithImage(image!.Image, image.Tag)
            .WithImageRegistry(image.Registry)
            .WithVllmEntrypoint(options.Entrypoint, PdImages.BinDirectory(imageName))
            .WithGpus([.. instance.Layout.GpuIds])
            .WithGpuVendor(options.GpuVendor)
            .WithDataBindMount(options.DataPath)
            .WithPrivileged(options.Privileged);
        ApplyEngineArguments(vllm.Resource.Arguments, options, apiKey?.Resource);
        foreach (var (name, variable) in instance.Layout.Environment)
        {
            vllm.WithEnvironment(name, variable.Value);
        }

        vllm.WithKvConnector(instance.KvConnector!);
        if (options.KvEvents.IsEnabled)
        {
            vllm.WithKvEvents(instance.Layout.KvEventsPort, ReplayPort(instance));
        }

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

        if (modelDownload is not null)
        {
            vllm.WaitForCompletion(modelDownload);
        }

        return PdInstance.ForService(instance, vllm);
    }

    internal static PdInstance AddSimulator<TSimulator>(
        IDistributedApplicationBuilder builder,
        PdOptions options,
        PdInstancePlan instance,
        IResourceBuilder<ParameterResource>? apiKey,
        IResourceBuilder<ParameterResource>? registrySecret = null)
        where TSimulator : IProjectMetadata, new()
    {
        // The simulator takes vLLM's flags; it gets the container's command line, bound to loopback and to
        // the port Aspire assigns the endpoint (it honours --port over ASPNETCORE_URLS).
        var arguments = new VllmServeArguments { Port = instance.Layout.Port, Host = "127.0.0.1", Model = options.Model };
        ApplyEngineArguments(arguments, options, apiKey?.Resource);
        arguments.KvTransferConfigJson = instance.KvConnector!.ToJson();

        var simulator = builder.AddProject<TSimulator>(instance.Name, launchProfileName: null)
            .WithHttpEndpoint(port: instance.Layout.Port, name: VllmResource.HttpEndpointName);
        if (options.KvEvents.IsEnabled)
        {
            // The same flag and endpoints as a container: the simulator publishes its prefix cache's events as vLLM does.
            arguments.KvEventsConfigJson = VllmBuilderExtensions.KvEventsConfigFor(instance.Layout.KvEventsPort, ReplayPort(instance)).ToJson();
            simulator.WithKvEventsEndpoints(instance.Layout.KvEventsPort, ReplayPort(instance));
        }

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
                foreach (var (name, variable) in instance.Layout.Environment)
                {
                    context.EnvironmentVariables[name] = variable.Value;
                }

                foreach (var (key, value) in instance.KvConnector.EnvironmentVariables)
                {
                    context.EnvironmentVariables[key] = value;
                }
            })
            .WithHttpHealthCheck(VllmResource.HealthPath, endpointName: VllmResource.HttpEndpointName)
            .WithVllmDashboardUrls(VllmResource.HttpEndpointName);

        if (registrySecret is not null)
        {
            simulator.WithEnvironment(PdApp.Protocol.P2pNccl.P2pNcclRegistrationMessage.SharedSecretVariable, registrySecret);
        }

        if (instance.KvConnector is SharedStorageKvConnector shared)
        {
            Directory.CreateDirectory(shared.SharedStoragePath);
        }

        return PdInstance.ForService(instance, simulator);
    }

    private static int? ReplayPort(PdInstancePlan instance) =>
        instance.Layout.KvEventsReplayPort > 0 ? instance.Layout.KvEventsReplayPort : null;

    internal static void ApplyEngineArguments(VllmServeArguments arguments, PdOptions options, ParameterResource? apiKey)
    {
        arguments.Model = options.Model;
        arguments.ServedModelName = options.ServedModelName;
        arguments.MaxModelLen = options.MaxModelLen;
        arguments.GpuMemoryUtilization = options.GpuMemoryUtilization;
        arguments.TensorParallelSize = options.TensorParallelSize;
        arguments.PipelineParallelSize = options.PipelineParallelSize > 1 ? options.PipelineParallelSize : null;
        arguments.TrustRemoteCode = options.TrustRemoteCode;
        arguments.ApiKey = apiKey;
        arguments.BlockSize = options.KvEvents.BlockSize;
        arguments.PrefixCachingHashAlgo = options.KvEvents.PrefixCachingHashAlgo;
        foreach (var arg in options.ExtraArgs)
        {
            arguments.ExtraArgs.Add(arg);
        }
    }
}
