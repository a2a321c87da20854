using k8s;
using k8s.Models;
using PdApp.Hosting.Deployment.Compose;
using PdApp.Hosting.Deployment.Kubernetes;

namespace PdApp.Tests.Deployment;

/// <summary>
/// The proxy drains in-flight streams for <c>Pd:Proxy:ShutdownTimeoutSeconds</c> on SIGTERM; the deployments must
/// give it longer than that before they kill it, and restart what fails.
/// </summary>
public sealed class ShutdownAndRestartTests
{
    [Theory]
    [InlineData(null, 30)]
    [InlineData("45", 45)]
    public async Task Compose_ProxyStopGracePeriodExceedsItsDrainAndEveryServiceRestarts(string? drain, int drainSeconds)
    {
        string[] settings = drain is null ? [] : [$"--Pd:Proxy:ShutdownTimeoutSeconds={drain}"];
        using var published = await DeploymentPublishing.PublishAsync(ComposeWriter.PublisherName, settings);
        var compose = ComposeDocument.Parse(published.Read(ComposeWriter.ComposeFileName));

        var grace = compose.Service("proxy").Scalar("stop_grace_period");
        Assert.EndsWith("s", grace, StringComparison.Ordinal);
        Assert.True(int.Parse(grace.TrimEnd('s'), System.Globalization.CultureInfo.InvariantCulture) > drainSeconds, grace);
        Assert.All(compose.ServiceNames.Where(n => !n.StartsWith("model-download", StringComparison.Ordinal)), name => Assert.Equal("unless-stopped", compose.Service(name).Scalar("restart")));

        // The deployed proxy drains for the configured time.
        Assert.Equal(drainSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), compose.Service("proxy").Map("environment").GetValueOrDefault("Pd__Proxy__ShutdownTimeoutSeconds", "30"));
    }

    [Fact]
    public async Task Kubernetes_ProxyPausesBeforeSigtermAndItsGracePeriodCoversPauseAndDrain()
    {
        using var published = await DeploymentPublishing.PublishAsync(KubernetesWriter.PublisherName, "--Pd:Kubernetes:PreStopSeconds=7");
        var proxy = KubernetesYaml.LoadAllFromString(published.Read(KubernetesWriter.ManifestFileName))
            .OfType<V1Deployment>().Single(d => d.Metadata.Name == "proxy").Spec.Template.Spec;

        var preStop = proxy.Containers.Single().Lifecycle.PreStop;
        Assert.Equal(7, preStop.Sleep.Seconds);
        Assert.Null(preStop.Exec); // The proxy's image has no shell.
        Assert.True(proxy.TerminationGracePeriodSeconds > 7 + 30, $"terminationGracePeriodSeconds {proxy.TerminationGracePeriodSeconds}");
    }

    [Fact]
    public async Task Kubernetes_WithoutPreStop_TheGracePeriodStillExceedsTheDrain()
    {
        using var published = await DeploymentPublishing.PublishAsync(KubernetesWriter.PublisherName, "--Pd:Kubernetes:PreStopSeconds=0");
        var proxy = KubernetesYaml.LoadAllFromString(published.Read(KubernetesWriter.ManifestFileName))
            .OfType<V1Deployment>().Single(d => d.Metadata.Name == "proxy").Spec.Template.Spec;

        Assert.Null(proxy.Containers.Single().Lifecycle);
        Assert.True(proxy.TerminationGracePeriodSeconds > 30);
    }
}
