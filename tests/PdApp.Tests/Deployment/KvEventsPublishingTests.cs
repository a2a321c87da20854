using Microsoft.Extensions.Configuration;
using PdApp.Hosting.Deployment.Compose;
using PdApp.Hosting.Deployment.Kubernetes;
using PdApp.Protocol;
using PdApp.Protocol.KvEvents;
using PdApp.Proxy.Routing.KvCache;
using k8s;
using k8s.Models;

namespace PdApp.Tests.Deployment;

/// <summary>
/// KV events in the published outputs: each engine's <c>--kv-events-config</c> and ports, and how the proxy reaches
/// them (compose: per service; Kubernetes: every discovered pod on its role's ports).
/// </summary>
public sealed class KvEventsPublishingTests
{
    private static readonly string[] KvAware2P2D = [.. Topologies.SharedStorage2P2D, "--Pd:Proxy:Balancing:Prefill=KvAware", "--Pd:Proxy:Balancing:Decode=KvAware"];

    private static string KvEventsEndpoint(IEnumerable<string> args) =>
        KvEventsConfig.Parse(args.SkipWhile(a => a != "--kv-events-config").Skip(1).First()).Endpoint!;

    [Fact]
    public async Task Compose_EachEnginePublishesItsEventPorts_AndTheProxyReachesThemByServiceName()
    {
        using var published = await DeploymentPublishing.PublishAsync(ComposeWriter.PublisherName, KvAware2P2D);
        var compose = ComposeDocument.Parse(published.Read(ComposeWriter.ComposeFileName));
        var proxy = compose.Service("proxy").Map("environment");

        foreach (var (name, port) in new[] { ("prefill-0", 5557), ("prefill-1", 5559), ("decode-0", 5561), ("decode-1", 5563) })
        {
            var service = compose.Service(name);
            Assert.Equal($"tcp://*:{port}", KvEventsEndpoint(service.Strings("command")));
            Assert.Contains($"{port}:{port}", service.Strings("ports"));
            Assert.Contains($"{port + 1}:{port + 1}", service.Strings("ports"));
            Assert.Equal($"tcp://{name}:{port}", proxy[$"Pd__Proxy__KvCache__Endpoints__{name}__Endpoint"]);
            Assert.Equal($"tcp://{name}:{port + 1}", proxy[$"Pd__Proxy__KvCache__Endpoints__{name}__ReplayEndpoint"]);
        }

        Assert.Equal("true", proxy["Pd__Proxy__KvCache__Enabled"]);
    }

    [Fact]
    public async Task Compose_HostNetwork_TheProxyReachesTheEventsOnTheHost()
    {
        using var published = await DeploymentPublishing.PublishAsync(ComposeWriter.PublisherName, [.. Topologies.P2pNccl2P2D, "--Pd:Proxy:Balancing:Decode=KvAware"]);
        var proxy = ComposeDocument.Parse(published.Read(ComposeWriter.ComposeFileName)).Service("proxy").Map("environment");

        Assert.Equal("tcp://127.0.0.1:5561", proxy["Pd__Proxy__KvCache__Endpoints__decode-0__Endpoint"]);
    }

    [Fact]
    public async Task Kubernetes_PodsOfARoleShareTheTemplatesPorts_AndTheProxySubscribesToEveryDiscoveredPod()
    {
        using var published = await DeploymentPublishing.PublishAsync(KubernetesWriter.PublisherName, KvAware2P2D);
        var objects = KubernetesYaml.LoadAllFromString(published.Read(KubernetesWriter.ManifestFileName)).ToList();
        var configMap = objects.OfType<V1ConfigMap>().Single();

        // The single-host endpoints name engines a cluster does not have; the role's ports replace them.
        Assert.DoesNotContain(configMap.Data.Keys, k => k.StartsWith("Pd__Proxy__KvCache__Endpoints__", StringComparison.Ordinal));
        var kvCache = new ConfigurationBuilder()
            .AddInMemoryCollection(configMap.Data.Select(e => new KeyValuePair<string, string?>(e.Key.Replace("__", ":", StringComparison.Ordinal), e.Value)))
            .Build()
            .GetSection(KvCacheOptions.SectionName)
            .Get<KvCacheOptions>()!;
        Assert.True(kvCache.Enabled);

        foreach (var (role, ip, port) in new[] { (PdRole.Prefill, "10.1.0.2", 5557), (PdRole.Decode, "10.2.0.1", 5561) })
        {
            // Any pod DNS discovery finds, at its own IP.
            Assert.Equal(($"tcp://{ip}:{port}", $"tcp://{ip}:{port + 1}"), kvCache.EndpointsFor($"{role}-pod", role, ip));

            var container = objects.OfType<V1Deployment>().Single(d => d.Metadata.Name == role.ToString().ToLowerInvariant()).Spec.Template.Spec.Containers.Single();
            Assert.Equal($"tcp://*:{port}", KvEventsEndpoint(container.Args));
            Assert.Contains(container.Ports, p => p is { Name: "kv-events", Protocol: "TCP" } && p.ContainerPort == port);
            Assert.Contains(container.Ports, p => p.Name == "kv-replay" && p.ContainerPort == port + 1);
        }
    }
}
