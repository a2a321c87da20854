using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using PdApp.Hosting;
using PdApp.Hosting.Containers;
using PdApp.Hosting.KvConnectors;
using PdApp.Hosting.Topology;
using PdApp.Protocol;

namespace PdApp.Tests.Hosting;

/// <summary>Every public entry point rejects null arguments with <see cref="ArgumentNullException"/>.</summary>
public sealed class GuardClauseTests
{
    private static readonly IDistributedApplicationBuilder Builder = AppModel.CreateBuilder();
    private static readonly IResourceBuilder<VllmResource> Vllm = Builder.AddVllmPrefill("guarded", model: "m");
    private static readonly IResourceBuilder<VllmResource> NullVllm = null!;
    private static readonly IDistributedApplicationBuilder NullBuilder = null!;

    public static TheoryData<string, Action> NullArguments => new()
    {
        { "AddVllm builder", () => NullBuilder.AddVllm("x", PdRole.Prefill, 8100) },
        { "AddVllm name", () => Builder.AddVllm(null!, PdRole.Prefill, 8100) },
        { "AddVllmPrefill builder", () => NullBuilder.AddVllmPrefill("x") },
        { "AddVllmDecode builder", () => NullBuilder.AddVllmDecode("x") },
        { "WithModel builder", () => NullVllm.WithModel("m") },
        { "WithModel model", () => Vllm.WithModel(null!) },
        { "WithServedModelName builder", () => NullVllm.WithServedModelName("n") },
        { "WithServedModelName name", () => Vllm.WithServedModelName(null!) },
        { "WithMaxModelLen builder", () => NullVllm.WithMaxModelLen(1) },
        { "WithGpuMemoryUtilization builder", () => NullVllm.WithGpuMemoryUtilization(0.5) },
        { "WithTensorParallelSize builder", () => NullVllm.WithTensorParallelSize(1) },
        { "WithPipelineParallelSize builder", () => NullVllm.WithPipelineParallelSize(1) },
        { "WithTrustRemoteCode builder", () => NullVllm.WithTrustRemoteCode() },
        { "WithExtraArgs builder", () => NullVllm.WithExtraArgs("--x") },
        { "WithExtraArgs args", () => Vllm.WithExtraArgs(null!) },
        { "WithVllmEntrypoint builder", () => NullVllm.WithVllmEntrypoint(VllmEntrypoint.VllmServe) },
        { "WithGpus() builder", () => NullVllm.WithGpus() },
        { "WithGpus(ids) builder", () => NullVllm.WithGpus(0) },
        { "WithGpus(ids) ids", () => Vllm.WithGpus(null!) },
        { "WithGpuVendor builder", () => NullVllm.WithGpuVendor(GpuVendor.Amd) },
        { "WithContainerRuntime builder", () => NullVllm.WithContainerRuntime(ContainerRuntimeKind.Podman) },
        { "ContainerRuntimeSelection.FromConfiguration", () => ContainerRuntimeSelection.FromConfiguration(null!) },
        { "WithPrivileged builder", () => NullVllm.WithPrivileged() },
        { "WithCapabilities builder", () => NullVllm.WithCapabilities("SYS_PTRACE") },
        { "WithCapabilities capabilities", () => Vllm.WithCapabilities(null!) },
        { "WithHostNetwork builder", () => NullVllm.WithHostNetwork() },
        { "WithNetworkInterface builder", () => NullVllm.WithNetworkInterface("eth0") },
        { "WithNetworkInterface name", () => Vllm.WithNetworkInterface(null!) },
        { "WithHuggingFaceToken builder", () => NullVllm.WithHuggingFaceToken(Builder.AddParameter("t1", secret: true)) },
        { "WithHuggingFaceToken token", () => Vllm.WithHuggingFaceToken(null!) },
        { "WithApiKey builder", () => NullVllm.WithApiKey(Builder.AddParameter("k1", secret: true)) },
        { "WithApiKey key", () => Vllm.WithApiKey(null!) },
        { "WithDataBindMount builder", () => NullVllm.WithDataBindMount("/data") },
        { "WithDataBindMount path", () => Vllm.WithDataBindMount(null!) },
        { "WithHuggingFaceCacheBindMount builder", () => NullVllm.WithHuggingFaceCacheBindMount("/srv/hf") },
        { "WithHuggingFaceCacheBindMount path", () => Vllm.WithHuggingFaceCacheBindMount(null!) },
        { "WithVllmDashboardUrls builder", () => ((IResourceBuilder<VllmResource>)null!).WithVllmDashboardUrls("http") },
        { "WithVllmDashboardUrls endpoint", () => Vllm.WithVllmDashboardUrls(null!) },
        { "WithKvConnector builder", () => NullVllm.WithKvConnector(new SharedStorageKvConnector(PdRole.Prefill, "/data/kv")) },
        { "WithKvConnector connector", () => Vllm.WithKvConnector(null!) },
        { "GetContainerRuntimeArgsAsync resource", () => ((ContainerResource)null!).GetContainerRuntimeArgsAsync().GetAwaiter().GetResult() },
        { "AddPdConfigurationFile builder", () => NullBuilder.AddPdConfigurationFile([]) },
        { "AddPdConfigurationFile args", () => Builder.AddPdConfigurationFile(null!) },
        { "GetPdOptions builder", () => NullBuilder.GetPdOptions() },
        { "ResolvePdBackendAsync builder", () => NullBuilder.ResolvePdBackendAsync(new PdOptions()).GetAwaiter().GetResult() },
        { "ResolvePdBackendAsync options", () => Builder.ResolvePdBackendAsync(null!).GetAwaiter().GetResult() },
        { "AddPdInstances builder", () => NullBuilder.AddPdInstances<Projects.PdApp_Simulator>(new PdOptions(), new PdBackendDecision(PdBackend.Vllm, "r")) },
        { "AddPdInstances options", () => Builder.AddPdInstances<Projects.PdApp_Simulator>(null!, new PdBackendDecision(PdBackend.Vllm, "r")) },
        { "AddPdInstances decision", () => Builder.AddPdInstances<Projects.PdApp_Simulator>(new PdOptions(), null!) },
        { "AddPdProxy builder", () => NullBuilder.AddPdProxy<Projects.PdApp_Proxy>("x") },
        { "AddPdProxy name", () => Builder.AddPdProxy<Projects.PdApp_Proxy>(null!) },
        { "WithPdInstances proxy", () => ((IResourceBuilder<PdProxyResource>)null!).WithPdInstances(null!) },
        { "WithPdInstances topology", () => Builder.AddPdProxy<Projects.PdApp_Proxy>("guarded-proxy").WithPdInstances(null!) },
        { "WithPdDashboard proxy", () => ((IResourceBuilder<PdProxyResource>)null!).WithPdDashboard(null!) },
        { "WithPdDashboard topology", () => Builder.AddPdProxy<Projects.PdApp_Proxy>("guarded-dashboard-proxy").WithPdDashboard(null!) },
        { "PdOptionsLoader.Load", () => PdOptionsLoader.Load(null!) },
        { "PdRecipes.Create", () => PdRecipes.Create(null!) },
        { "PdImages.For", () => PdImages.For(null!) },
        { "PdLayout.Create", () => PdLayout.Create(null!) },
        { "PdTopologyPlan.Create", () => PdTopologyPlan.Create(null!, PdBackend.Vllm) },
        { "PdOptionsValidator.Validate", () => new PdOptionsValidator().Validate(null, null!) },
        { "SharedStorageKvConnector path", () => _ = new SharedStorageKvConnector(PdRole.Prefill, null!) },
        { "PyNcclKvConnector ip", () => _ = new PyNcclKvConnector(PdRole.Prefill, 0, 2, null!) },
        { "P2pNcclKvConnector ip", () => _ = new P2pNcclKvConnector(PdRole.Prefill, null!, 21001, 8100, "p", 30001) },
        { "P2pNcclKvConnector proxy", () => _ = new P2pNcclKvConnector(PdRole.Prefill, "h", 21001, 8100, null!, 30001) },
        { "NixlKvConnector host", () => _ = new NixlKvConnector(PdRole.Prefill, null!, 5600) },
        { "LMCacheKvConnector rpc", () => _ = new LMCacheKvConnector(PdRole.Prefill, null!) },
        { "MultiKvConnector connectors", () => _ = new MultiKvConnector(PdRole.Prefill, null!) },
    };

    [Theory]
    [MemberData(nameof(NullArguments))]
    public void PublicMember_NullArgument_ThrowsArgumentNullException(string member, Action call)
    {
        var ex = Record.Exception(call);

        Assert.True(ex is ArgumentNullException, $"{member} threw {ex?.GetType().Name ?? "nothing"}.");
    }

    [Fact]
    public void AddVllm_EmptyName_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => Builder.AddVllm(string.Empty, PdRole.Prefill, 8100));
    }
}
