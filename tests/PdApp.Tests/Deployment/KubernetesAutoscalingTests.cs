using k8s;
using k8s.Models;
using PdApp.Hosting.Deployment.Kubernetes;

namespace PdApp.Tests.Deployment;

/// <summary>Per-role HorizontalPodAutoscalers (<c>Pd:Kubernetes:Autoscaling:*</c>) read from the published manifest.</summary>
public sealed class KubernetesAutoscalingTests
{
    private static readonly string[] DecodeAutoscaled =
        ["--Pd:Kubernetes:Autoscaling:Decode:Enabled=true", "--Pd:Kubernetes:Autoscaling:Decode:MinReplicas=2", "--Pd:Kubernetes:Autoscaling:Decode:MaxReplicas=6",
         "--Pd:Kubernetes:Autoscaling:Decode:TargetValue=12"];

    [Fact]
    public async Task ByDefault_NoAutoscalerAndFixedReplicas()
    {
        var (_, objects) = await PublishAsync(Topologies.SharedStorage2P2D);

        Assert.DoesNotContain(objects, o => o.Kind == "HorizontalPodAutoscaler");
        Assert.All(objects.OfType<V1Deployment>(), d => Assert.NotNull(d.Spec.Replicas));
    }

    [Fact]
    public async Task EnabledRole_GetsAnAutoscalerOnTheProxysPerRoleDemandAndLeavesReplicasToIt()
    {
        var (text, objects) = await PublishAsync([.. Topologies.Nixl2P2D, .. DecodeAutoscaled]);

        var hpa = Assert.Single(objects.OfType<V2HorizontalPodAutoscaler>());
        Assert.Equal("autoscaling/v2", hpa.ApiVersion);
        Assert.Equal(("decode", "pdapp"), (hpa.Metadata.Name, hpa.Metadata.NamespaceProperty));
        Assert.Equal("decode", hpa.Metadata.Labels["pdapp.io/role"]);
        Assert.Equal(("apps/v1", "Deployment", "decode"), (hpa.Spec.ScaleTargetRef.ApiVersion, hpa.Spec.ScaleTargetRef.Kind, hpa.Spec.ScaleTargetRef.Name));
        Assert.Equal((2, 6), (hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas));

        var metric = Assert.Single(hpa.Spec.Metrics);
        Assert.Equal("External", metric.Type);
        Assert.Equal("pdapp_role_requests_outstanding", metric.External.Metric.Name);
        Assert.Equal("decode", Assert.Single(metric.External.Metric.Selector.MatchLabels, l => l.Key == "role").Value);
        Assert.Equal(("AverageValue", "12"), (metric.External.Target.Type, metric.External.Target.AverageValue.ToString()));
        Assert.Contains("pdapp_instance_requests_outstanding", hpa.Metadata.Annotations[KubernetesAutoscaling.MetricSourceAnnotation], StringComparison.Ordinal);
        Assert.Contains("prometheus-adapter", hpa.Metadata.Annotations[KubernetesAutoscaling.MetricSourceAnnotation], StringComparison.Ordinal);

        // The autoscaled workload has no fixed count to fight the HPA on every apply; the other role keeps its count.
        Assert.Null(objects.OfType<V1Deployment>().Single(d => d.Metadata.Name == "decode").Spec.Replicas);
        Assert.Equal(2, objects.OfType<V1Deployment>().Single(d => d.Metadata.Name == "prefill").Spec.Replicas);

        // After the role's disruption budget, in apply order; and valid for the strict schema check.
        var kinds = objects.Select(o => $"{o.Kind}/{o.Metadata.Name}").ToList();
        Assert.Equal(kinds.IndexOf("PodDisruptionBudget/decode") + 1, kinds.IndexOf("HorizontalPodAutoscaler/decode"));
        Assert.Equal(objects.Count, KubernetesYaml.LoadAllFromString(text, typeMap: null, strict: true).Count);
    }

    [Fact]
    public async Task TheSeriesTheAutoscalerReadsIsOneTheProxyExports()
    {
        // The adapter maps the proxy's per-role gauge; the name is the one ProxyTelemetryTests reads on /metrics.
        Assert.Equal("pdapp_instance_requests_outstanding", KubernetesAutoscaling.SourceSeries);
        Assert.Equal("role", KubernetesAutoscaling.RoleLabel);
        var (_, objects) = await PublishAsync(
            ["--Pd:Kubernetes:Autoscaling:Prefill:Enabled=true", "--Pd:Kubernetes:Autoscaling:Decode:Enabled=true", "--Pd:Kubernetes:Autoscaling:MetricName=pd_demand"]);

        var hpas = objects.OfType<V2HorizontalPodAutoscaler>().ToList();
        Assert.Equal(["prefill", "decode"], hpas.Select(h => h.Metadata.Name));
        Assert.All(hpas, h => Assert.Equal("pd_demand", h.Spec.Metrics.Single().External.Metric.Name));
        Assert.All(hpas, h => Assert.Equal((1, 4, "8"), (h.Spec.MinReplicas, h.Spec.MaxReplicas, h.Spec.Metrics.Single().External.Target.AverageValue.ToString())));
    }

    [Theory]
    [InlineData("--Pd:Kubernetes:Autoscaling:Decode:MinReplicas=0", "Pd:Kubernetes:Autoscaling:Decode:MinReplicas")]
    [InlineData("--Pd:Kubernetes:Autoscaling:Decode:MaxReplicas=1", "Pd:Kubernetes:Autoscaling:Decode:MaxReplicas")]
    [InlineData("--Pd:Kubernetes:Autoscaling:Decode:TargetValue=0", "Pd:Kubernetes:Autoscaling:Decode:TargetValue")]
    [InlineData("--Pd:Kubernetes:Autoscaling:MetricName=not a name", "Pd:Kubernetes:Autoscaling:MetricName")]
    public async Task InvalidAutoscalingSetting_FailsNamingTheSetting(string setting, string key)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => DeploymentPublishing.PublishAsync(
            KubernetesWriter.PublisherName, "--Pd:Kubernetes:Autoscaling:Decode:Enabled=true", "--Pd:Kubernetes:Autoscaling:Decode:MinReplicas=2", setting));

        Assert.Contains(key, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DisabledRole_IsNotValidated()
    {
        var options = new PdKubernetesOptions();
        options.Autoscaling.Decode.MinReplicas = 0;
        Assert.Empty(options.Validate());

        options.Autoscaling.Decode.Enabled = true;
        Assert.Contains(options.Validate(), e => e.StartsWith("Pd:Kubernetes:Autoscaling:Decode:MinReplicas", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(FixedIdentityRoles))]
    public async Task RoleWithFixedPodIdentities_IsRefusedNamingTheConnector(string[] settings, string key, string connector)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => DeploymentPublishing.PublishAsync(KubernetesWriter.PublisherName, settings));

        Assert.Contains(key, error.Message, StringComparison.Ordinal);
        Assert.Contains(connector, error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string[], string, string> FixedIdentityRoles() => new()
    {
        { [.. Topologies.PyNccl1P1D, "--Pd:Kubernetes:Autoscaling:Prefill:Enabled=true"], "Pd:Kubernetes:Autoscaling:Prefill:Enabled", "PyNcclConnector" },
        {
            [.. Topologies.LMCache1P1D, "--Pd:HostNetwork=true", "--Pd:Kubernetes:HostNetwork=true", "--Pd:Kubernetes:Autoscaling:Decode:Enabled=true"],
            "Pd:Kubernetes:Autoscaling:Decode:Enabled", "LMCacheConnectorV1"
        },
        {
            [.. Topologies.P2pNccl2P2D, "--Pd:Kubernetes:HostNetwork=true", "--Pd:Kubernetes:Autoscaling:Decode:Enabled=true"],
            "Pd:Kubernetes:Autoscaling:Decode:Enabled", "P2pNcclConnector"
        },
        { ["--Pd:Kubernetes:Autoscaling:Both:Enabled=true"], "Pd:Kubernetes:Autoscaling:Both:Enabled", "no both engines" },
    };

    [Fact]
    public async Task LMCacheDecodeOnThePodNetwork_CanAutoscale_ItsReceiversAreNamedPerRequest()
    {
        var (_, objects) = await PublishAsync([.. Topologies.LMCache1P1D, "--Pd:Kubernetes:Autoscaling:Decode:Enabled=true"]);

        Assert.Equal("decode", Assert.Single(objects.OfType<V2HorizontalPodAutoscaler>()).Spec.ScaleTargetRef.Name);
    }

    [Fact]
    public async Task P2pNcclOnThePodNetwork_CanAutoscale()
    {
        var (_, objects) = await PublishAsync([.. Topologies.P2pNccl2P2D, "--Pd:Kubernetes:Autoscaling:Decode:Enabled=true"]);

        Assert.Equal("decode", Assert.Single(objects.OfType<V2HorizontalPodAutoscaler>()).Spec.ScaleTargetRef.Name);
    }

    private static async Task<(string Text, List<IKubernetesObject<V1ObjectMeta>> Objects)> PublishAsync(string[] settings)
    {
        using var published = await DeploymentPublishing.PublishAsync(KubernetesWriter.PublisherName, settings);
        var text = published.Read(KubernetesWriter.ManifestFileName);
        return (text, [.. KubernetesYaml.LoadAllFromString(text).Cast<IKubernetesObject<V1ObjectMeta>>()]);
    }
}
