using System.Net;
using k8s;
using k8s.Models;
using PdApp.Hosting.Deployment;
using PdApp.Hosting.Deployment.Compose;
using PdApp.Hosting.Deployment.Kubernetes;
using PdApp.Hosting.Deployment.Model;
using YamlDotNet.RepresentationModel;

namespace PdApp.Tests.Deployment;

/// <summary>
/// The rule "what an engine binds vs what its peers connect to" (<see cref="KvAddressRule"/>), checked on the
/// published files of every connector: a bound address is a numeric IP of the engine itself (libzmq binds no host
/// names), a peer address names the engine that binds it.
/// </summary>
public sealed class KvBindAddressTests
{
    public static TheoryData<string> Connectors => new() { "Nixl2P2D", "LMCache1P1D", "Multi1P1D", "P2pNccl2P2D", "P2pNcclBridge1P1D", "PyNccl1P1D", "SharedStorage1P1D" };

    private static string[] Topology(string name) => name switch
    {
        "Nixl2P2D" => Topologies.Nixl2P2D,
        "LMCache1P1D" => Topologies.LMCache1P1D,
        "Multi1P1D" => Topologies.Multi1P1D,
        "P2pNccl2P2D" => Topologies.P2pNccl2P2D,
        "P2pNcclBridge1P1D" => Topologies.P2pNcclBridge1P1D,
        "PyNccl1P1D" => Topologies.PyNccl1P1D,
        "SharedStorage1P1D" => Topologies.SharedStorage1P1D,
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Connectors))]
    public async Task Compose_BoundAddressesAreTheEnginesOwnIpsAndPeersConnectToTheEngineThatBinds(string connector)
    {
        using var published = await DeploymentPublishing.PublishAsync(ComposeWriter.PublisherName, Topology(connector));
        var compose = ComposeDocument.Parse(published.Read(ComposeWriter.ComposeFileName));
        var engines = compose.ServiceNames.Where(n => n != "proxy").ToList();
        var bound = new Dictionary<string, (string Service, string Value)>(StringComparer.Ordinal);

        foreach (var name in engines)
        {
            var service = compose.Service(name);
            var environment = Environment(service);
            foreach (var (key, value) in environment)
            {
                if (KvAddressRule.Classify(key, environment) != KvAddressUse.OwnBindAddress)
                {
                    continue;
                }

                var text = value.ToString();
                Assert.True(IPAddress.TryParse(text, out var ip), $"{name}: {key}={text} is not a numeric address; libzmq cannot bind it.");
                if (!service.Has("network_mode"))
                {
                    // On a bridge: the engine's fixed address on the pd network, inside its subnet.
                    Assert.Equal(service.Scalar("networks", ComposeNetwork.NetworkName, "ipv4_address"), text);
                    var config = (YamlSequenceNode)compose.Root.At("networks", ComposeNetwork.NetworkName, "ipam", "config");
                    var subnet = IPNetwork.Parse(config.Children[0].Scalar("subnet"));
                    Assert.True(subnet.Contains(ip!), $"{name}: {text} is outside {subnet}.");
                }

                bound[key + "@" + name] = (name, text);
            }
        }

        // Every bridge engine that binds has a distinct address.
        var addresses = bound.Values.Where(b => !compose.Service(b.Service).Has("network_mode")).GroupBy(b => b.Service).Select(g => g.First().Value).ToList();
        Assert.Equal(addresses.Count, addresses.Distinct().Count());

        // Peer addresses name the service that binds the same variable, or its address.
        foreach (var name in engines)
        {
            var environment = Environment(compose.Service(name));
            foreach (var (key, value) in environment.Where(e => KvAddressRule.Classify(e.Key, environment) == KvAddressUse.PeerAddress))
            {
                var target = value.ToString();
                Assert.Contains(bound.Values, b => b.Service != name && (b.Service == target || b.Value == target));
            }
        }

        // The connectors that bind have at least one bound variable; the others none.
        // LMCache 0.3.x receivers bind every interface and learn nothing of their own address.
        var binds = connector is "Nixl2P2D" or "Multi1P1D" or "P2pNccl2P2D" or "P2pNcclBridge1P1D";
        Assert.Equal(binds, bound.Count > 0);
        Assert.Equal(bound.Values.Any(b => !compose.Service(b.Service).Has("network_mode")), compose.Root.Has("networks"));
    }

    [Theory]
    [MemberData(nameof(Connectors))]
    public async Task Kubernetes_BoundAddressesAreThePodIpAndPeersConnectThroughTheReceiversService(string connector)
    {
        using var published = await DeploymentPublishing.PublishAsync(KubernetesWriter.PublisherName, Topology(connector));
        var objects = KubernetesYaml.LoadAllFromString(published.Read(KubernetesWriter.ManifestFileName));
        var templates = objects.OfType<V1Deployment>().Where(d => d.Metadata.Name != "proxy").Select(d => (d.Metadata.Name, d.Spec.Template.Spec))
            .Concat(objects.OfType<V1StatefulSet>().Select(s => (s.Metadata.Name, s.Spec.Template.Spec)))
            .ToList();
        Assert.NotEmpty(templates);

        foreach (var (name, pod) in templates)
        {
            var env = pod.Containers.Single().Env ?? [];
            var environment = env.Select(e => new KeyValuePair<string, DeploymentValue>(e.Name, DeploymentValue.Literal(e.Value ?? string.Empty))).ToList();
            foreach (var variable in env)
            {
                switch (KvAddressRule.Classify(variable.Name, environment))
                {
                    case KvAddressUse.OwnBindAddress:
                        Assert.Equal("status.podIP", variable.ValueFrom?.FieldRef?.FieldPath);
                        break;
                    case KvAddressUse.PeerAddress:
                        // A role Service (headless: it resolves to the receivers' pod IPs, which they bind).
                        Assert.Contains(objects.OfType<V1Service>(), s => s.Metadata.Name == variable.Value && s.Spec.ClusterIP == "None");
                        Assert.NotEqual(name, variable.Value);
                        break;
                }
            }
        }
    }

    private static List<KeyValuePair<string, DeploymentValue>> Environment(YamlMappingNode service) =>
        service.Has("environment")
            ? [.. service.Map("environment").Select(e => new KeyValuePair<string, DeploymentValue>(e.Key, DeploymentValue.Literal(e.Value)))]
            : [];
}
