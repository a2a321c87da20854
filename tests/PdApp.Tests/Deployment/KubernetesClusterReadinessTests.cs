using k8s;
using k8s.Models;
using PdApp.Hosting.Deployment.Compose;
using PdApp.Hosting.Deployment.Kubernetes;
using YamlDotNet.RepresentationModel;

namespace PdApp.Tests.Deployment;

/// <summary>
/// The Kubernetes output as a GPU cluster operator needs it: schema-valid objects, scheduling and resources,
/// security, disruption budgets, a persistent model volume with a download step, and no GPU sharing.
/// </summary>
public sealed class KubernetesClusterReadinessTests
{
    public static TheoryData<string> Examples => new() { "shared-storage", "nixl", "lmcache", "multi", "p2pnccl", "pynccl" };

    [Theory]
    [MemberData(nameof(Examples))]
    public async Task EveryObject_RoundTripsThroughTheTypedModelsWithStrictUnknownFieldDetection(string example)
    {
        using var published = await DeploymentPublishing.PublishAsync(
            KubernetesWriter.PublisherName,
            $"--PdConfig=examples/{example}.json", "--Pd:UseHuggingFaceToken=true", "--Pd:UseApiKey=true", "--Pd:Kubernetes:IngressHost=llm.example.com",
            "--Pd:Kubernetes:ImagePullSecrets:0=registry-cred", "--Pd:Kubernetes:NodeSelector:nvidia.com/gpu.product=NVIDIA-H100-80GB-HBM3",
            example is "pynccl" or "lmcache" ? "--Pd:Kubernetes:Autoscaling:Prefill:Enabled=false" : "--Pd:Kubernetes:Autoscaling:Decode:Enabled=true");
        var text = published.Read(KubernetesWriter.ManifestFileName);

        // strict: a field the Kubernetes API does not define (a typo, a wrong level) throws.
        var objects = KubernetesYaml.LoadAllFromString(text, typeMap: null, strict: true);
        var documents = Documents(text);
        Assert.Equal(documents.Count, objects.Count);
        Assert.Equal(example is "pynccl" or "lmcache" ? 0 : 1, objects.Count(o => o is V2HorizontalPodAutoscaler));
        for (var i = 0; i < objects.Count; i++)
        {
            // Nothing is lost or renamed: the typed object serializes back to the same tree.
            Assert.Equal(Canonical(documents[i]), Canonical(Documents(KubernetesYaml.Serialize(objects[i])).Single()));
        }
    }

    [Fact]
    public void StrictLoading_RejectsAnUnknownField()
    {
        const string Yaml = "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  clusterIp: None\n";
        Assert.ThrowsAny<Exception>(() => KubernetesYaml.LoadAllFromString(Yaml, typeMap: null, strict: true));
    }

    [Fact]
    public async Task EnginePods_HaveResourcesGpuTolerationShmLimitSecurityAndScrapeAnnotations()
    {
        var objects = await PublishAsync(Topologies.Nixl2P2D);

        foreach (var role in new[] { "prefill", "decode" })
        {
            var template = Deployment(objects, role).Spec.Template;
            var pod = template.Spec;
            var container = pod.Containers.Single();
            Assert.Equal("4", container.Resources.Requests["cpu"].ToString());
            Assert.Equal("32Gi", container.Resources.Requests["memory"].ToString());
            Assert.Equal("64Gi", container.Resources.Limits["memory"].ToString());
            Assert.Equal("1", container.Resources.Limits[KubernetesWriter.GpuResourceName].ToString());
            Assert.Contains(pod.Tolerations, t => t.Key == "nvidia.com/gpu" && t.OperatorProperty == "Exists" && t.Effect == "NoSchedule");
            Assert.Equal("16Gi", pod.Volumes.Single(v => v.EmptyDir is not null).EmptyDir.SizeLimit.ToString());
            Assert.Equal("RuntimeDefault", container.SecurityContext.SeccompProfile.Type);
            Assert.NotEqual(true, container.SecurityContext.Privileged);
            Assert.Equal("true", template.Metadata.Annotations["prometheus.io/scrape"]);
            Assert.Equal(container.Ports.Single(p => p.Name == "http").ContainerPort.ToString(System.Globalization.CultureInfo.InvariantCulture), template.Metadata.Annotations["prometheus.io/port"]);

            // NIXL between pods: cuda_ipc cannot reach another pod's GPU, so the written transports are the ones used.
            Assert.Equal("cuda_copy,tcp", container.Env.Single(e => e.Name == "UCX_TLS").Value);

            // One pod of a role at a time may go in a node drain.
            var budget = objects.OfType<V1PodDisruptionBudget>().Single(b => b.Metadata.Name == role);
            Assert.Equal(1, budget.Spec.MaxUnavailable.Value is string s ? int.Parse(s, System.Globalization.CultureInfo.InvariantCulture) : Convert.ToInt32(budget.Spec.MaxUnavailable.Value, System.Globalization.CultureInfo.InvariantCulture));
            Assert.All(budget.Spec.Selector.MatchLabels, l => Assert.Equal(l.Value, template.Metadata.Labels[l.Key]));
        }

        Assert.Contains(objects.OfType<V1PodDisruptionBudget>(), b => b.Metadata.Name == "proxy");

        // The proxy's ConfigMap holds only what the proxy reads: no single-host instance references.
        Assert.DoesNotContain(objects.OfType<V1ConfigMap>().Single().Data.Keys, k => k.StartsWith("PREFILL_", StringComparison.Ordinal) || k.StartsWith("DECODE_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Settings_AddNodeSelectorPullSecretsAndAnIngressForStreaming()
    {
        var objects = await PublishAsync(
        [
            "--Pd:Kubernetes:NodeSelector:nvidia.com/gpu.product=NVIDIA-H100-80GB-HBM3", "--Pd:Kubernetes:ImagePullSecrets:0=registry-cred",
            "--Pd:Kubernetes:IngressHost=llm.example.com", "--Pd:Kubernetes:IngressClassName=nginx", "--Pd:Kubernetes:TolerateGpuTaint=false",
        ]);

        var pod = Deployment(objects, "decode").Spec.Template.Spec;
        Assert.Equal("NVIDIA-H100-80GB-HBM3", pod.NodeSelector["nvidia.com/gpu.product"]);
        Assert.Equal(["registry-cred"], pod.ImagePullSecrets.Select(s => s.Name));
        Assert.Null(pod.Tolerations);
        Assert.Equal(["registry-cred"], Deployment(objects, "proxy").Spec.Template.Spec.ImagePullSecrets.Select(s => s.Name));

        var ingress = objects.OfType<V1Ingress>().Single();
        Assert.Equal("nginx", ingress.Spec.IngressClassName);
        var rule = ingress.Spec.Rules.Single();
        Assert.Equal("llm.example.com", rule.Host);
        Assert.Equal(("proxy", 8000), (rule.Http.Paths.Single().Backend.Service.Name, rule.Http.Paths.Single().Backend.Service.Port.Number!.Value));
        Assert.Equal("off", ingress.Metadata.Annotations["nginx.ingress.kubernetes.io/proxy-buffering"]);
    }

    [Fact]
    public async Task HuggingFaceModel_IsDownloadedByAnInitContainerIntoThePersistentCache()
    {
        var objects = await PublishAsync(Topologies.Nixl2P2D);

        var claim = objects.OfType<V1PersistentVolumeClaim>().Single();
        Assert.Equal("pdapp-models", claim.Metadata.Name);
        Assert.Equal(["ReadWriteMany"], claim.Spec.AccessModes);
        foreach (var role in new[] { "prefill", "decode" })
        {
            var pod = Deployment(objects, role).Spec.Template.Spec;
            var vllm = pod.Containers.Single();
            var download = Assert.Single(pod.InitContainers);
            Assert.Equal(vllm.Image, download.Image);
            Assert.Equal(["python3"], download.Command);
            Assert.Contains("snapshot_download", download.Args[1], StringComparison.Ordinal);
            Assert.Equal("Qwen/Qwen3-0.6B", download.Args[2]);

            // Same cache, same token: vLLM finds the files the step fetched.
            Assert.Contains(download.VolumeMounts, m => m.MountPath == "/root/.cache/huggingface" && m.SubPath == "hf-cache");
            Assert.Equal(vllm.VolumeMounts.Select(m => (m.Name, m.MountPath, m.SubPath)), download.VolumeMounts.Select(m => (m.Name, m.MountPath, m.SubPath)));
            Assert.Equal("pdapp-models", pod.Volumes.Single(v => v.PersistentVolumeClaim is not null).PersistentVolumeClaim.ClaimName);

            // A shared (ReadWriteMany) claim: pods may spread over nodes.
            Assert.Null(pod.Affinity);
        }
    }

    [Fact]
    public async Task ModelPath_HasNoDownloadStep()
    {
        var objects = await PublishAsync(Topologies.SharedStorage1P1D);

        Assert.Null(Deployment(objects, "prefill").Spec.Template.Spec.InitContainers);
    }

    [Theory]
    [InlineData("--Pd:Kubernetes:ModelVolumeAccessMode=ReadWriteOnce", true)]
    [InlineData("--Pd:Kubernetes:ModelVolume=hostPath:/models", true)]
    [InlineData("--Pd:Kubernetes:ModelVolume=pvc:shared-models", false)]
    public async Task SharedStorage_ColocatesPrefillAndDecodeUnlessTheVolumeIsSharedAcrossNodes(string setting, bool colocated)
    {
        var objects = await PublishAsync([.. Topologies.SharedStorage1P1D, setting]);

        foreach (var role in new[] { "prefill", "decode" })
        {
            var pod = Deployment(objects, role).Spec.Template.Spec;
            var term = pod.Affinity?.PodAffinity?.RequiredDuringSchedulingIgnoredDuringExecution?.SingleOrDefault();
            Assert.Equal(colocated, term is not null);
            if (term is not null)
            {
                // Every engine pod on one node: the decode reads the KV files the prefill wrote there.
                Assert.Equal("kubernetes.io/hostname", term.TopologyKey);
                Assert.Equal("vllm", term.LabelSelector.MatchLabels["app.kubernetes.io/name"]);
            }

            // A node folder is created when missing: nodes without the model do not fail the mount.
            Assert.All(pod.Volumes.Where(v => v.HostPath is not null), v => Assert.Equal("DirectoryOrCreate", v.HostPath.Type));
        }
    }

    [Fact]
    public async Task NixlOnANodeFolder_NeedsNoColocation()
    {
        var objects = await PublishAsync([.. Topologies.Nixl2P2D, "--Pd:Kubernetes:ModelVolume=hostPath:/models"]);

        Assert.Null(Deployment(objects, "decode").Spec.Template.Spec.Affinity);
    }

    [Fact]
    public async Task Compose_DownloadsAHuggingFaceModelOnceIntoAPersistentVolumeBeforeTheEnginesStart()
    {
        using var published = await DeploymentPublishing.PublishAsync(ComposeWriter.PublisherName, [.. Topologies.Nixl2P2D, .. Topologies.WithSecrets]);
        var compose = ComposeDocument.Parse(published.Read(ComposeWriter.ComposeFileName));

        var download = compose.Service("model-download");
        Assert.Equal(["python3"], download.Strings("entrypoint"));
        Assert.Equal("Qwen/Qwen3-0.6B", download.Strings("command")[2]);
        Assert.False(download.Has("restart")); // Compose's default: it runs once, and the engines wait for its exit.
        Assert.StartsWith("${HF_TOKEN:?", download.Map("environment")["HF_TOKEN"], StringComparison.Ordinal);
        Assert.True(compose.Root.At("volumes").Has("hf-cache"));

        foreach (var name in new[] { "prefill-0", "prefill-1", "decode-0", "decode-1" })
        {
            var service = compose.Service(name);
            Assert.Equal("service_completed_successfully", service.Scalar("depends_on", "model-download", "condition"));
            var cache = ((YamlSequenceNode)service["volumes"]).Children.Cast<YamlMappingNode>().Single(v => v.Scalar("target") == "/root/.cache/huggingface");
            Assert.Equal(("volume", "hf-cache"), (cache.Scalar("type"), cache.Scalar("source")));
            Assert.Equal("cuda_copy,tcp", service.Map("environment")["UCX_TLS"]);
        }

        Assert.False(compose.Service("proxy").At("depends_on").Has("model-download"));
    }

    private static async Task<List<IKubernetesObject<V1ObjectMeta>>> PublishAsync(string[] settings)
    {
        using var published = await DeploymentPublishing.PublishAsync(KubernetesWriter.PublisherName, settings);
        return [.. KubernetesYaml.LoadAllFromString(published.Read(KubernetesWriter.ManifestFileName)).Cast<IKubernetesObject<V1ObjectMeta>>()];
    }

    private static V1Deployment Deployment(IEnumerable<IKubernetesObject<V1ObjectMeta>> objects, string name) =>
        objects.OfType<V1Deployment>().Single(d => d.Metadata.Name == name);

    private static List<YamlNode> Documents(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return [.. stream.Documents.Select(d => d.RootNode).Where(n => n is not YamlScalarNode { Value: null or "" })];
    }

    /// <summary>A tree as text with mapping keys sorted, so key order does not matter.</summary>
    private static string Canonical(YamlNode node) => node switch
    {
        YamlMappingNode map => "{" + string.Join(",", map.Children.OrderBy(c => ((YamlScalarNode)c.Key).Value, StringComparer.Ordinal)
            .Select(c => ((YamlScalarNode)c.Key).Value + ":" + Canonical(c.Value))) + "}",
        YamlSequenceNode list => "[" + string.Join(",", list.Children.Select(Canonical)) + "]",
        YamlScalarNode scalar => scalar.Value ?? string.Empty,
        _ => node.ToString(),
    };
}
