using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using PdApp.Hosting;
using PdApp.Hosting.KvConnectors;
using PdApp.Protocol;

namespace PdApp.Tests.Hosting;

public sealed class VllmResourceTests
{
    [Fact]
    public void AddVllmPrefill_PinsTheOfficialImageNeverLatest()
    {
        var builder = AppModel.CreateBuilder();

        var vllm = builder.AddVllmPrefill("prefill-0", model: "/data/dp7b/");

        var image = Assert.Single(vllm.Resource.Annotations.OfType<ContainerImageAnnotation>());
        Assert.Equal("docker.io", image.Registry);
        Assert.Equal("vllm/vllm-openai", image.Image);
        Assert.Equal("v0.11.2", image.Tag);
        Assert.Equal("vllm", vllm.Resource.Entrypoint);
    }

    [Fact]
    public void AddVllm_ExposesItsPortAsTheHttpEndpointWithAHealthCheckOnHealth()
    {
        var builder = AppModel.CreateBuilder();

        var vllm = builder.AddVllmDecode("decode-0", port: 8200, model: "/data/dp7b/");

        var endpoint = Assert.Single(vllm.Resource.Annotations.OfType<EndpointAnnotation>());
        Assert.Equal(VllmResource.HttpEndpointName, endpoint.Name);
        Assert.Equal("http", endpoint.UriScheme);
        Assert.Equal(8200, endpoint.Port);
        Assert.Equal(8200, endpoint.TargetPort);
        Assert.True(endpoint.IsProxied);
        Assert.Equal(VllmResource.HttpEndpointName, vllm.Resource.PrimaryEndpoint.EndpointName);
        Assert.Same(vllm.Resource.PrimaryEndpoint, vllm.Resource.PrimaryEndpoint);
        Assert.Single(vllm.Resource.Annotations.OfType<HealthCheckAnnotation>());
    }

    [Fact]
    public async Task AddVllm_RendersVllmServeArgumentsInTheGuidesOrder()
    {
        var builder = AppModel.CreateBuilder();
        var vllm = builder.AddVllmPrefill("prefill-0", 8100)
            .WithModel("/data/dp7b/")
            .WithServedModelName("dp7b")
            .WithMaxModelLen(65535)
            .WithGpuMemoryUtilization(0.9)
            .WithTensorParallelSize(1)
            .WithPipelineParallelSize(2)
            .WithTrustRemoteCode()
            .WithExtraArgs("--enforce-eager");

        var (args, _) = await AppModel.EvaluateAsync(vllm.Resource);

        Assert.Equal(
            ["serve", "/data/dp7b/", "--port", "8100", "--served-model-name", "dp7b", "--max-model-len", "65535",
             "--gpu-memory-utilization", "0.9", "--tensor-parallel-size", "1", "--pipeline-parallel-size", "2",
             "--trust-remote-code", "--enforce-eager"],
            args);
    }

    [Fact]
    public async Task WithVllmEntrypoint_OpenAiApiServer_StartsTheOlderModuleWithModelFlag()
    {
        var builder = AppModel.CreateBuilder();
        var vllm = builder.AddVllmPrefill("prefill-0", 8100, "/data/dp7b/").WithVllmEntrypoint(VllmEntrypoint.OpenAiApiServer);

        var (args, _) = await AppModel.EvaluateAsync(vllm.Resource);

        Assert.Equal("python3", vllm.Resource.Entrypoint);
        Assert.Equal(["-m", "vllm.entrypoints.openai.api_server", "--model", "/data/dp7b/", "--port", "8100"], args);
    }

    [Fact]
    public async Task AddVllm_RunsWithHostIpcAndTheGuidesUlimitsByDefault()
    {
        var builder = AppModel.CreateBuilder();
        var vllm = builder.AddVllmPrefill("prefill-0", model: "m");

        var runtimeArgs = await vllm.Resource.GetContainerRuntimeArgsAsync();

        Assert.Equal(["--ipc=host", "--ulimit", "memlock=-1", "--ulimit", "stack=67108864"], runtimeArgs);
    }

    [Fact]
    public async Task WithGpus_DeviceIds_PassesQuotedDeviceListAndContainerRelativeCudaVisibleDevices()
    {
        var builder = AppModel.CreateBuilder();
        var vllm = builder.AddVllmDecode("decode-0", model: "m").WithGpus(2, 3);

        var runtimeArgs = await vllm.Resource.GetContainerRuntimeArgsAsync();
        var (_, env) = await AppModel.EvaluateAsync(vllm.Resource);

        Assert.Equal(["--gpus", "\"device=2,3\""], runtimeArgs.Take(2));
        // The NVIDIA runtime renumbers the passed devices from 0.
        Assert.Equal("0,1", env["CUDA_VISIBLE_DEVICES"]);
    }

    [Fact]
    public async Task WithGpus_Privileged_UsesHostGpuIndicesLikeTheGuide()
    {
        var builder = AppModel.CreateBuilder();
        var vllm = builder.AddVllmDecode("decode-0", model: "m").WithGpus(1).WithPrivileged().WithCapabilities("sys_ptrace");

        var runtimeArgs = await vllm.Resource.GetContainerRuntimeArgsAsync();
        var (_, env) = await AppModel.EvaluateAsync(vllm.Resource);

        Assert.Equal("1", env["CUDA_VISIBLE_DEVICES"]);
        Assert.Contains("--privileged", runtimeArgs);
        Assert.Contains("--cap-add=SYS_PTRACE", runtimeArgs);
    }

    [Fact]
    public async Task WithGpus_All_PassesGpusAllWithoutCudaVisibleDevices()
    {
        var builder = AppModel.CreateBuilder();
        var vllm = builder.AddVllmPrefill("prefill-0", model: "m").WithGpus();

        var runtimeArgs = await vllm.Resource.GetContainerRuntimeArgsAsync();
        var (_, env) = await AppModel.EvaluateAsync(vllm.Resource);

        Assert.Equal(["--gpus", "all"], runtimeArgs.Take(2));
        Assert.False(env.ContainsKey("CUDA_VISIBLE_DEVICES"));
    }

    [Fact]
    public void WithGpus_DuplicateIds_Throws()
    {
        var builder = AppModel.CreateBuilder();
        var vllm = builder.AddVllmPrefill("prefill-0", model: "m");

        Assert.Throws<ArgumentException>(() => vllm.WithGpus(0, 0));
        Assert.Throws<ArgumentException>(() => vllm.WithGpus([]));
    }

    [Fact]
    public async Task WithHostNetwork_AddsNetworkHostAndStopsProxyingTheEndpoint()
    {
        var builder = AppModel.CreateBuilder();
        var vllm = builder.AddVllmPrefill("prefill-0", model: "m").WithHostNetwork();

        var runtimeArgs = await vllm.Resource.GetContainerRuntimeArgsAsync();

        Assert.Contains("--network=host", runtimeArgs);
        Assert.False(vllm.Resource.Annotations.OfType<EndpointAnnotation>().Single().IsProxied);
    }

    [Fact]
    public async Task WithNetworkInterface_SetsGlooAndNcclSocketInterfaces()
    {
        var builder = AppModel.CreateBuilder();
        var vllm = builder.AddVllmPrefill("prefill-0", model: "m").WithNetworkInterface("eth0");

        var (_, env) = await AppModel.EvaluateAsync(vllm.Resource);

        Assert.Equal("eth0", env["GLOO_SOCKET_IFNAME"]);
        Assert.Equal("eth0", env["NCCL_SOCKET_IFNAME"]);
    }

    [Fact]
    public async Task WithHuggingFaceTokenAndApiKey_UseSecretParametersNotLiterals()
    {
        var builder = AppModel.CreateBuilder();
        var token = builder.AddParameter("hf-token", secret: true);
        var key = builder.AddParameter("vllm-api-key", secret: true);
        var vllm = builder.AddVllmPrefill("prefill-0", model: "m").WithHuggingFaceToken(token).WithApiKey(key);

        var (args, env) = await AppModel.EvaluateAsync(vllm.Resource);

        Assert.Equal("{hf-token.value}", env["HF_TOKEN"]);
        var i = args.ToList().IndexOf("--api-key");
        Assert.Equal("{vllm-api-key.value}", args[i + 1]);
    }

    [Fact]
    public void WithDataBindMount_MountsTheHostFolderAtData()
    {
        var builder = AppModel.CreateBuilder();
        var vllm = builder.AddVllmPrefill("prefill-0", model: "m").WithDataBindMount("/srv/models");

        var mount = Assert.Single(vllm.Resource.Annotations.OfType<ContainerMountAnnotation>());
        Assert.Equal("/srv/models", mount.Source);
        Assert.Equal("/data", mount.Target);
        Assert.Equal(ContainerMountType.BindMount, mount.Type);
        Assert.False(mount.IsReadOnly);
    }

    [Fact]
    public async Task WithKvConnector_PassesTheJsonAndTheConnectorsEnvironment()
    {
        var builder = AppModel.CreateBuilder();
        var connector = new NixlKvConnector(PdRole.Decode, "decode-0", 5601);
        var vllm = builder.AddVllmDecode("decode-0", model: "m").WithKvConnector(connector);

        var (args, env) = await AppModel.EvaluateAsync(vllm.Resource);

        var json = args[args.ToList().IndexOf("--kv-transfer-config") + 1];
        Assert.Equal(connector.ToJson(), json);
        Assert.Equal("decode-0", env["VLLM_NIXL_SIDE_CHANNEL_HOST"]);
        Assert.Equal("5601", env["VLLM_NIXL_SIDE_CHANNEL_PORT"]);
        Assert.Same(connector, vllm.Resource.KvConnector);
    }

    [Fact]
    public void WithKvConnector_ForAnotherRole_ThrowsNamingBoth()
    {
        var builder = AppModel.CreateBuilder();
        var vllm = builder.AddVllmDecode("decode-0", model: "m");

        var ex = Assert.Throws<ArgumentException>(() => vllm.WithKvConnector(new SharedStorageKvConnector(PdRole.Prefill, "/data/kv")));

        Assert.Contains("Prefill", ex.Message);
        Assert.Contains("decode-0", ex.Message);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.01)]
    [InlineData(double.NaN)]
    public void WithGpuMemoryUtilization_OutsideZeroToOne_Throws(double fraction)
    {
        var builder = AppModel.CreateBuilder();
        var vllm = builder.AddVllmPrefill("prefill-0", model: "m");

        Assert.Throws<ArgumentOutOfRangeException>(() => vllm.WithGpuMemoryUtilization(fraction));
    }

    [Fact]
    public async Task Render_WithoutModel_FailsWithAMessageNamingWithModel()
    {
        var builder = AppModel.CreateBuilder();
        var vllm = builder.AddVllmPrefill("prefill-0");

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => AppModel.EvaluateAsync(vllm.Resource));

        Assert.Contains("WithModel", ex.Message);
    }

    [Theory]
    [InlineData(PdRole.Prefill, KvRoles.Producer)]
    [InlineData(PdRole.Decode, KvRoles.Consumer)]
    [InlineData(PdRole.Both, KvRoles.Both)]
    public void VllmResource_MapsRoleToKvRole(PdRole role, string kvRole)
    {
        var builder = AppModel.CreateBuilder();

        var vllm = builder.AddVllm("engine", role, 8100, "m");

        Assert.Equal(kvRole, vllm.Resource.KvRole);
    }

    [Fact]
    public void WithHuggingFaceCacheBindMount_MountsTheHostCacheWhereVllmLooks()
    {
        var builder = AppModel.CreateBuilder();
        var vllm = builder.AddVllmPrefill("prefill-0", model: "Qwen/Qwen3-0.6B").WithHuggingFaceCacheBindMount("/srv/hf");

        var mount = Assert.Single(vllm.Resource.Annotations.OfType<ContainerMountAnnotation>());
        Assert.Equal(("/srv/hf", "/root/.cache/huggingface"), (mount.Source, mount.Target));
    }
}
