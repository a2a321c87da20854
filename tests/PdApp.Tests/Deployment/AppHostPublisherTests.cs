using System.Diagnostics;
using PdApp.Hosting.Deployment.Compose;
using PdApp.Hosting.Deployment.Kubernetes;
using k8s;

namespace PdApp.Tests.Deployment;

/// <summary>The command users run: the app host itself with <c>--publisher compose|kubernetes --output-path</c>.</summary>
public sealed class AppHostPublisherTests
{
    [Fact]
    public async Task PublisherCompose_WritesComposeAndEnvFilesAndExitsZero()
    {
        using var folder = TempFolder.Create("pdapp-apphost-compose-");
        var output = folder.Path;

        var (exitCode, log) = await PdApp.Tests.AppHost.AppHostProcess.RunAsync("--publisher", "compose", "--output-path", output, "--PdConfig", "examples/p2pnccl.json");

        Assert.True(exitCode == 0, log);
        var compose = ComposeDocument.Parse(await File.ReadAllTextAsync(Path.Combine(output, ComposeWriter.ComposeFileName)));
        Assert.Equal(["prefill-0", "decode-0", "decode-1", "decode-2", "proxy"], compose.ServiceNames);
        Assert.True(File.Exists(Path.Combine(output, ComposeWriter.EnvFileName)));
    }

    [Fact]
    public async Task PublisherKubernetes_WritesTheManifestAndExitsZero()
    {
        using var folder = TempFolder.Create("pdapp-apphost-k8s-");
        var output = folder.Path;

        var (exitCode, log) = await PdApp.Tests.AppHost.AppHostProcess.RunAsync("--publisher", "kubernetes", "--output-path", output, "--Pd:Kubernetes:Namespace=pd-test");

        Assert.True(exitCode == 0, log);
        var objects = KubernetesYaml.LoadAllFromString(await File.ReadAllTextAsync(Path.Combine(output, KubernetesWriter.ManifestFileName)));
        // Namespace, the models claim, per role a Service, a Deployment and a PodDisruptionBudget, the proxy's
        // ConfigMap, Deployment, Service and PodDisruptionBudget.
        Assert.Equal(12, objects.Count);
        Assert.All(objects.Skip(1).Cast<IKubernetesObject<k8s.Models.V1ObjectMeta>>(), o => Assert.Equal("pd-test", o.Metadata.NamespaceProperty));
        Assert.Contains("kubernetes deployment written", log, StringComparison.Ordinal);
    }
}
