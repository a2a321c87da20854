using Aspire.Hosting;
using PdApp.Hosting.Topology;

namespace PdApp.Tests.Hosting;

public sealed class PdBackendResolverTests
{
    private sealed class FixedProbe(GpuRuntimeProbeResult result) : IGpuContainerRuntimeProbe
    {
        public int Calls { get; private set; }

        public Task<GpuRuntimeProbeResult> ProbeAsync(CancellationToken cancellationToken)
        {
            Calls++;
            return Task.FromResult(result);
        }
    }

    [Fact]
    public async Task Auto_WhenPublishing_ChoosesVllmWithoutProbing()
    {
        var probe = new FixedProbe(new(false, "nothing"));

        var decision = await new PdBackendResolver(probe).ResolveAsync(PdBackend.Auto, isPublishMode: true, CancellationToken.None);

        Assert.Equal(PdBackend.Vllm, decision.Backend);
        Assert.Contains("publishing", decision.Reason);
        Assert.Equal(0, probe.Calls);
    }

    [Fact]
    public async Task Auto_WithGpuContainers_ChoosesVllmAndSaysWhy()
    {
        var decision = await new PdBackendResolver(new FixedProbe(new(true, "docker info lists the nvidia runtime")))
            .ResolveAsync(PdBackend.Auto, isPublishMode: false, CancellationToken.None);

        Assert.Equal(PdBackend.Vllm, decision.Backend);
        Assert.Contains("nvidia runtime", decision.Reason);
    }

    [Fact]
    public async Task Auto_WithoutGpuContainers_ChoosesTheSimulatorAndSaysWhy()
    {
        var decision = await new PdBackendResolver(new FixedProbe(new(false, "no usable container runtime ('docker info': not installed)")))
            .ResolveAsync(PdBackend.Auto, isPublishMode: false, CancellationToken.None);

        Assert.Equal(PdBackend.Simulator, decision.Backend);
        Assert.Contains("not installed", decision.Reason);
        Assert.Contains("simulator", decision.Reason);
    }

    [Theory]
    [InlineData(PdBackend.Vllm)]
    [InlineData(PdBackend.Simulator)]
    [InlineData(PdBackend.External)]
    public async Task ExplicitBackend_IsKeptWithoutProbing(PdBackend backend)
    {
        var probe = new FixedProbe(new(true, "gpus"));

        var decision = await new PdBackendResolver(probe).ResolveAsync(backend, isPublishMode: false, CancellationToken.None);

        Assert.Equal(backend, decision.Backend);
        Assert.Equal(0, probe.Calls);
    }

    [Fact]
    public async Task ExplicitVllm_InRunModeWithoutGpuContainers_FailsNamingTheSettingsToChange()
    {
        var probe = new FixedProbe(new(false, "no usable container runtime ('docker info': Cannot connect to the Docker daemon)"));

        var ex = await Assert.ThrowsAsync<PdBackendUnavailableException>(
            () => new PdBackendResolver(probe).ResolveAsync(PdBackend.Vllm, isPublishMode: false, CancellationToken.None, requireGpuRuntime: true));

        Assert.Contains("Cannot connect to the Docker daemon", ex.Message);
        Assert.Contains("--Pd:Backend=simulator", ex.Message);
        Assert.Contains("--Pd:CheckGpuRuntime=false", ex.Message);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task ExplicitVllm_WithGpuContainers_OrWhenPublishing_IsKept(bool available, bool publishing)
    {
        var probe = new FixedProbe(new(available, available ? "docker info lists the nvidia runtime" : "nothing"));

        var decision = await new PdBackendResolver(probe).ResolveAsync(PdBackend.Vllm, publishing, CancellationToken.None, requireGpuRuntime: true);

        Assert.Equal(PdBackend.Vllm, decision.Backend);
        Assert.Equal(publishing ? 0 : 1, probe.Calls);
    }

    [Fact]
    public async Task TryResolve_FromTheAppHost_WritesTheReasonAndReturnsNull_UnlessTheCheckIsOff()
    {
        var builder = AppModel.CreateBuilder();
        var probe = new FixedProbe(new(false, "docker is running but has no NVIDIA GPUs"));
        var errors = new StringWriter();

        var refused = await builder.TryResolvePdBackendAsync(new PdOptions { Backend = PdBackend.Vllm }, errors, probe);
        var unchecked_ = await builder.TryResolvePdBackendAsync(new PdOptions { Backend = PdBackend.Vllm, CheckGpuRuntime = false }, errors, probe);

        Assert.Null(refused);
        Assert.Contains("Pd:Backend is vllm, but this machine cannot run GPU containers: docker is running but has no NVIDIA GPUs", errors.ToString());
        Assert.Equal(PdBackend.Vllm, unchecked_?.Backend);
    }

    [Fact]
    public async Task DockerNvidiaProbe_AnswersWithinItsTimeoutAndExplainsItself()
    {
        var probe = new DockerNvidiaProbe { CommandTimeout = TimeSpan.FromSeconds(2) };
        var watch = System.Diagnostics.Stopwatch.StartNew();

        var result = await probe.ProbeAsync(CancellationToken.None);

        // Two commands at most, each bounded.
        Assert.InRange(watch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        Assert.False(string.IsNullOrWhiteSpace(result.Evidence));
    }

    [Fact]
    public async Task DockerNvidiaProbe_OnPodman_ProbesPodmanAndSaysSo()
    {
        var probe = new DockerNvidiaProbe { CommandTimeout = TimeSpan.FromSeconds(2), Runtime = PdApp.Hosting.Containers.ContainerRuntimeKind.Podman };

        var result = await probe.ProbeAsync(CancellationToken.None);

        // Every answer names the runtime it asked: "no usable container runtime ('podman info': ...)", "podman is running ...".
        Assert.Contains("podman", result.Evidence, StringComparison.Ordinal);
        Assert.DoesNotContain("docker", result.Evidence, StringComparison.Ordinal);
    }
}
