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
