using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using PdApp.Hosting.Deployment.Kubernetes;
using PdApp.Protocol;
using PdApp.Proxy.Routing.Discovery;
using PdApp.Tests.Proxy.Routing;
using k8s;
using k8s.Models;

namespace PdApp.Tests.Deployment;

/// <summary>
/// The proxy started with the discovery settings of the published ConfigMap: what the proxy pod reads through
/// <c>envFrom</c>, with the cluster's DNS replaced by a fake that answers for the role Services.
/// </summary>
public sealed class KubernetesProxyDiscoveryTests
{
    [Fact]
    public async Task PublishedConfigMap_ProxyDiscoversEveryPodOfEachRoleOnTheRolesPortAndFollowsScaling()
    {
        using var published = await DeploymentPublishing.PublishAsync(KubernetesWriter.PublisherName, Topologies.SharedStorage2P2D);
        var configMap = KubernetesYaml.LoadAllFromString(published.Read(KubernetesWriter.ManifestFileName)).OfType<V1ConfigMap>().Single();

        // Environment variable names as configuration keys (Pd__Discovery__Dns__Prefill -> Pd:Discovery:Dns:Prefill).
        var settings = configMap.Data
            .Where(e => e.Key.StartsWith("Pd__Discovery__", StringComparison.Ordinal))
            .ToDictionary(e => e.Key.Replace("__", ":", StringComparison.Ordinal), e => (string?)e.Value);
        var resolver = new FakeHostAddressResolver();
        resolver.Set(settings["Pd:Discovery:Dns:Prefill"]!, "10.1.0.1", "10.1.0.2");
        resolver.Set(settings["Pd:Discovery:Dns:Decode"]!, "10.2.0.1", "10.2.0.2");
        await using var host = await RoutingHost.StartAsync(settings, s => s.Replace(ServiceDescriptor.Singleton<IHostAddressResolver>(resolver)));

        Assert.Equal(
            ["http://10.1.0.1:8100/", "http://10.1.0.2:8100/"],
            host.Registry.GetInstances(PdRole.Prefill).Select(i => i.BaseAddress.ToString()).Order(StringComparer.Ordinal));
        Assert.Equal(
            ["http://10.2.0.1:8200/", "http://10.2.0.2:8200/"],
            host.Registry.GetInstances(PdRole.Decode).Select(i => i.BaseAddress.ToString()).Order(StringComparer.Ordinal));

        // kubectl scale deployment/decode --replicas=3
        resolver.Set(settings["Pd:Discovery:Dns:Decode"]!, "10.2.0.1", "10.2.0.2", "10.2.0.3");
        await host.Services.GetRequiredService<DnsInstanceSource>().RefreshAsync(CancellationToken.None);

        Assert.Equal(3, host.Registry.GetInstances(PdRole.Decode).Count);
    }
}
