using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;
using PdApp.Hosting;
using PdApp.Hosting.Containers;

namespace PdApp.Tests.Hosting;

/// <summary>
/// GPU options per vendor and container runtime, read from the resource's runtime args as DCP would start it:
/// the runtime comes from Aspire's own setting (<c>ASPIRE_CONTAINER_RUNTIME</c> and its older names) or <c>WithContainerRuntime</c>.
/// </summary>
public sealed class VllmGpuSupportTests
{
    private static async Task<(IReadOnlyList<string> RuntimeArgs, IReadOnlyDictionary<string, string> Env)> DeclareAsync(
        string runtime, GpuVendor vendor, int[] gpus, bool privileged = false)
    {
        var builder = AppModel.CreateBuilder($"--{ContainerRuntimeSelection.RuntimeKey}={runtime}");
        var vllm = builder.AddVllmDecode("decode-0", model: "m").WithGpuVendor(vendor).WithPrivileged(privileged);
        vllm = gpus.Length == 0 ? vllm.WithGpus() : vllm.WithGpus(gpus);
        var runtimeArgs = await vllm.Resource.GetContainerRuntimeArgsAsync();
        var (_, env) = await AppModel.EvaluateAsync(vllm.Resource);
        return (runtimeArgs, env);
    }

    private static IReadOnlyList<string> GpuArgs(IReadOnlyList<string> runtimeArgs) =>
        [.. runtimeArgs.TakeWhile(a => a != "--ipc=host")];

    public static TheoryData<string, GpuVendor, int[], string[], string?, string?> Combinations => new()
    {
        // runtime, vendor, GPUs (empty: all), GPU options, visible-devices variable, its value
        { "docker", GpuVendor.Nvidia, [], ["--gpus", "all"], null, null },
        { "docker", GpuVendor.Nvidia, [2, 3], ["--gpus", "\"device=2,3\""], "CUDA_VISIBLE_DEVICES", "0,1" },
        { "podman", GpuVendor.Nvidia, [], ["--device", "nvidia.com/gpu=all"], null, null },
        { "podman", GpuVendor.Nvidia, [2, 3], ["--device", "nvidia.com/gpu=2", "--device", "nvidia.com/gpu=3"], "CUDA_VISIBLE_DEVICES", "0,1" },
        { "docker", GpuVendor.Amd, [], ["--device", "/dev/kfd", "--device", "/dev/dri", "--group-add", "video"], null, null },
        { "docker", GpuVendor.Amd, [1], ["--device", "/dev/kfd", "--device", "/dev/dri", "--group-add", "video"], "HIP_VISIBLE_DEVICES", "1" },
        { "podman", GpuVendor.Amd, [], ["--device", "/dev/kfd", "--device", "/dev/dri", "--group-add", "video"], null, null },
        { "podman", GpuVendor.Amd, [0, 2], ["--device", "/dev/kfd", "--device", "/dev/dri", "--group-add", "video"], "HIP_VISIBLE_DEVICES", "0,2" },
    };

    [Theory]
    [MemberData(nameof(Combinations))]
    public async Task WithGpus_EachRuntimeAndVendor_PassesThatRuntimesDeviceOptions(
        string runtime, GpuVendor vendor, int[] gpus, string[] expectedArgs, string? variable, string? visible)
    {
        var (runtimeArgs, env) = await DeclareAsync(runtime, vendor, gpus);

        Assert.Equal(expectedArgs, GpuArgs(runtimeArgs));
        Assert.Equal(["--ipc=host", "--ulimit", "memlock=-1", "--ulimit", "stack=67108864"], runtimeArgs.Skip(expectedArgs.Length));
        foreach (var name in new[] { "CUDA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES" })
        {
            Assert.Equal(name == variable ? visible : null, env.GetValueOrDefault(name));
        }
    }

    [Theory]
    [InlineData("docker", GpuVendor.Nvidia, "CUDA_VISIBLE_DEVICES")]
    [InlineData("podman", GpuVendor.Nvidia, "CUDA_VISIBLE_DEVICES")]
    [InlineData("podman", GpuVendor.Amd, "HIP_VISIBLE_DEVICES")]
    public async Task WithGpus_Privileged_ListsHostIndicesOnEveryRuntime(string runtime, GpuVendor vendor, string variable)
    {
        var (_, env) = await DeclareAsync(runtime, vendor, [1, 3], privileged: true);

        Assert.Equal("1,3", env[variable]);
    }

    [Fact]
    public async Task NoGpus_NoDeviceOptionsOnAnyRuntime()
    {
        foreach (var runtime in new[] { "docker", "podman" })
        {
            var builder = AppModel.CreateBuilder($"--{ContainerRuntimeSelection.RuntimeKey}={runtime}");
            var vllm = builder.AddVllmDecode("decode-0", model: "m").WithGpuVendor(GpuVendor.Amd);

            var runtimeArgs = await vllm.Resource.GetContainerRuntimeArgsAsync();

            Assert.Equal("--ipc=host", runtimeArgs[0]);
        }
    }

    [Fact]
    public async Task WithContainerRuntime_OverridesTheConfiguredRuntime()
    {
        var builder = AppModel.CreateBuilder($"--{ContainerRuntimeSelection.RuntimeKey}=docker");
        var vllm = builder.AddVllmPrefill("prefill-0", model: "m").WithGpus(0).WithContainerRuntime(ContainerRuntimeKind.Podman);

        Assert.Equal(["--device", "nvidia.com/gpu=0"], GpuArgs(await vllm.Resource.GetContainerRuntimeArgsAsync()));
    }

    [Theory]
    [InlineData(new string[0], ContainerRuntimeKind.Docker)]
    [InlineData(new[] { "ASPIRE_CONTAINER_RUNTIME", "podman" }, ContainerRuntimeKind.Podman)]
    [InlineData(new[] { "ASPIRE_CONTAINER_RUNTIME", " Podman " }, ContainerRuntimeKind.Podman)]
    [InlineData(new[] { "DOTNET_ASPIRE_CONTAINER_RUNTIME", "podman" }, ContainerRuntimeKind.Podman)]
    [InlineData(new[] { "DcpPublisher:ContainerRuntime", "podman" }, ContainerRuntimeKind.Podman)]
    [InlineData(new[] { "ASPIRE_CONTAINER_RUNTIME", "docker", "DOTNET_ASPIRE_CONTAINER_RUNTIME", "podman" }, ContainerRuntimeKind.Docker)]
    [InlineData(new[] { "DOTNET_ASPIRE_CONTAINER_RUNTIME", "podman", "DcpPublisher:ContainerRuntime", "docker" }, ContainerRuntimeKind.Podman)]
    public void FromConfiguration_ReadsAspiresSettingsInAspiresOrder(string[] settings, ContainerRuntimeKind expected)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Chunk(2).Select(s => new KeyValuePair<string, string?>(s[0], s[1])))
            .Build();

        Assert.Equal(expected, ContainerRuntimeSelection.FromConfiguration(configuration));
    }

    [Fact]
    public async Task UnknownConfiguredRuntime_FailsNamingTheSetting()
    {
        var builder = AppModel.CreateBuilder($"--{ContainerRuntimeSelection.RuntimeKey}=containerd");
        var vllm = builder.AddVllmPrefill("prefill-0", model: "m").WithGpus();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => vllm.Resource.GetContainerRuntimeArgsAsync());

        Assert.Contains("ASPIRE_CONTAINER_RUNTIME is 'containerd'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownVendorOrRuntime_ThrowsArgumentException()
    {
        var vllm = AppModel.CreateBuilder().AddVllmPrefill("prefill-0", model: "m");

        Assert.Throws<ArgumentException>(() => vllm.WithGpuVendor((GpuVendor)42));
        Assert.Throws<ArgumentException>(() => vllm.WithContainerRuntime((ContainerRuntimeKind)42));
    }

    [Fact]
    public async Task PdGpuVendorAmd_GivesEveryPlannedEngineRocmDevicesAndItsOwnHipVisibleDevices()
    {
        var builder = AppModel.CreateBuilder("--Pd:GpuVendor=Amd", $"--{ContainerRuntimeSelection.RuntimeKey}=podman");
        var options = builder.GetPdOptions();

        builder.AddPdInstances<Projects.PdApp_Simulator>(options, new PdApp.Hosting.Topology.PdBackendDecision(PdApp.Hosting.Topology.PdBackend.Vllm, "chosen by the test"));

        var decode = Assert.IsType<VllmResource>(builder.Resources.Single(r => r.Name == "decode-0"));
        Assert.Equal(["--device", "/dev/kfd", "--device", "/dev/dri", "--group-add", "video"], GpuArgs(await decode.GetContainerRuntimeArgsAsync()));
        var (_, env) = await AppModel.EvaluateAsync(decode);
        Assert.Equal("1", env["HIP_VISIBLE_DEVICES"]);
        Assert.False(env.ContainsKey("CUDA_VISIBLE_DEVICES"));
    }
}
