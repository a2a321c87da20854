using k8s;
using k8s.Models;
using PdApp.Hosting.Deployment.Kubernetes;

namespace PdApp.Tests.Deployment;

public sealed class KubernetesPublishingTests
{
    private static readonly string[] RecommendedLabels =
        ["app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component", "app.kubernetes.io/part-of", "app.kubernetes.io/managed-by"];

    [Fact]
    public async Task SharedStorage1P1D_WritesNamespacedLabelledObjectsInApplyOrder()
    {
        var (_, objects) = await PublishAsync(Topologies.SharedStorage1P1D);

        Assert.Equal(
            ["Namespace/pdapp", "Service/prefill-0", "Deployment/prefill-0", "Service/decode-0", "Deployment/decode-0", "Service/prefill", "Service/decode",
             "ConfigMap/proxy-config", "Deployment/proxy", "Service/proxy"],
            objects.Select(o => $"{o.Kind}/{o.Metadata.Name}"));
        foreach (var item in objects.Skip(1))
        {
            Assert.Equal("pdapp", item.Metadata.NamespaceProperty);
            Assert.All(RecommendedLabels, label => Assert.True(item.Metadata.Labels.ContainsKey(label), $"{item.Kind}/{item.Metadata.Name} lacks {label}"));
            Assert.Equal("pdapp", item.Metadata.Labels["app.kubernetes.io/part-of"]);
        }

        var prefill = Deployment(objects, "prefill-0");
        Assert.Equal("prefill", prefill.Metadata.Labels["pdapp.io/role"]);
        Assert.Equal("vllm", prefill.Metadata.Labels["app.kubernetes.io/name"]);
        Assert.Equal("decode", Deployment(objects, "decode-0").Metadata.Labels["pdapp.io/role"]);
        Assert.DoesNotContain(objects, o => o.Kind == "Secret");
    }

    [Fact]
    public async Task SharedStorage2P2D_EachEngineIsOneGpuPodWithTheModelsArgsProbesShmAndDataVolume()
    {
        var (published, objects) = await PublishAsync(Topologies.SharedStorage2P2D);

        foreach (var (name, port, role) in new[] { ("prefill-0", 8100, "prefill"), ("prefill-1", 8101, "prefill"), ("decode-0", 8200, "decode"), ("decode-1", 8201, "decode") })
        {
            var deployment = Deployment(objects, name);
            Assert.Equal(1, deployment.Spec.Replicas);
            Assert.Equal("Recreate", deployment.Spec.Strategy.Type);
            Assert.All(deployment.Spec.Selector.MatchLabels, l => Assert.Equal(l.Value, deployment.Spec.Template.Metadata.Labels[l.Key]));
            Assert.Equal(role, deployment.Spec.Template.Metadata.Labels["pdapp.io/role"]);

            var pod = deployment.Spec.Template.Spec;
            var container = Assert.Single(pod.Containers);
            Assert.Equal("docker.io/vllm/vllm-openai:v0.11.2", container.Image);
            Assert.Equal(["vllm"], container.Command);
            Assert.Equal(published.ModelArgs[name], container.Args);
            Assert.Equal("1", container.Resources.Limits[KubernetesWriter.GpuResourceName].ToString());

            // The device plugin picks the GPU; host indices from the single-host model do not apply.
            Assert.DoesNotContain(container.Env ?? [], e => e.Name == "CUDA_VISIBLE_DEVICES");

            var http = Assert.Single(container.Ports);
            Assert.Equal(("http", port), (http.Name, http.ContainerPort));
            foreach (var probe in new[] { container.StartupProbe, container.ReadinessProbe, container.LivenessProbe })
            {
                Assert.Equal("/health", probe.HttpGet.Path);
                Assert.Equal("http", probe.HttpGet.Port.Value);
            }

            // Startup allows the default 1800 s for model loading before liveness takes over.
            Assert.Equal(1800, container.StartupProbe.PeriodSeconds * container.StartupProbe.FailureThreshold);
            Assert.Null(pod.HostNetwork);

            var shm = pod.Volumes.Single(v => v.Name == container.VolumeMounts.Single(m => m.MountPath == "/dev/shm").Name);
            Assert.Equal("Memory", shm.EmptyDir.Medium);
            var data = pod.Volumes.Single(v => v.Name == container.VolumeMounts.Single(m => m.MountPath == "/data").Name);
            Assert.Equal("/data", data.HostPath.Path);
        }
    }

    [Fact]
    public async Task SharedStorage2P2D_EnginesGetHeadlessServicesPerInstanceAndPerRole()
    {
        var (_, objects) = await PublishAsync(Topologies.SharedStorage2P2D);

        foreach (var (name, port) in new[] { ("prefill-0", 8100), ("prefill-1", 8101), ("decode-0", 8200), ("decode-1", 8201) })
        {
            var service = Service(objects, name);
            Assert.Equal("None", service.Spec.ClusterIP);

            // KV peers connect while models still load, before readiness.
            Assert.True(service.Spec.PublishNotReadyAddresses);
            Assert.Equal(port, Assert.Single(service.Spec.Ports).Port);
            Assert.All(service.Spec.Selector, l => Assert.Equal(l.Value, Deployment(objects, name).Spec.Template.Metadata.Labels[l.Key]));
        }

        foreach (var role in new[] { "prefill", "decode" })
        {
            var service = Service(objects, role);
            Assert.Equal("None", service.Spec.ClusterIP);
            Assert.Equal(role, service.Spec.Selector["pdapp.io/role"]);
            var selected = objects.OfType<V1Deployment>().Where(d => service.Spec.Selector.All(l => d.Spec.Template.Metadata.Labels.TryGetValue(l.Key, out var v) && v == l.Value));
            Assert.Equal([role + "-0", role + "-1"], selected.Select(d => d.Metadata.Name));
        }

        var proxy = Service(objects, "proxy");
        Assert.Null(proxy.Spec.ClusterIP);
        Assert.Equal(("http", 8000), (Assert.Single(proxy.Spec.Ports).Name, proxy.Spec.Ports[0].Port));
    }

    [Fact]
    public async Task SharedStorage2P2D_ProxyReadsItsPdSettingsFromTheConfigMapWithServiceAddresses()
    {
        var (_, objects) = await PublishAsync(Topologies.SharedStorage2P2D);

        var data = objects.OfType<V1ConfigMap>().Single().Data;
        Assert.Equal("SharedStorageConnector", data["Pd__Connector"]);
        Assert.Equal("/data/dp7b/", data["Pd__Model"]);
        Assert.Equal("prefill-1", data["Pd__Instances__1__Name"]);
        Assert.Equal("Prefill", data["Pd__Instances__1__Role"]);
        Assert.Equal("http://decode-1", data["Pd__Instances__3__Address"]);
        Assert.Equal("http://prefill-1:8101", data["services__prefill-1__http__0"]);
        Assert.Equal("http://decode-1:8201", data["services__decode-1__http__0"]);
        Assert.Equal("8000", data["HTTP_PORTS"]);

        var proxy = Deployment(objects, "proxy");
        var container = Assert.Single(proxy.Spec.Template.Spec.Containers);
        Assert.Equal("pdapp-proxy:latest", container.Image);
        Assert.Equal("proxy-config", Assert.Single(container.EnvFrom).ConfigMapRef.Name);
        Assert.Null(container.Resources);
        Assert.Equal("/health", container.ReadinessProbe.HttpGet.Path);
        Assert.Equal("/alive", container.LivenessProbe.HttpGet.Path);
        Assert.Equal(8000, Assert.Single(container.Ports).ContainerPort);
    }

    [Fact]
    public async Task Secrets_AreReferencedFromTheSecretAndNeverWritten()
    {
        var (published, objects) = await PublishAsync([.. Topologies.SharedStorage1P1D, .. Topologies.WithSecrets, "--Parameters:vllm-api-key=configured-api-key-value"]);
        Assert.DoesNotContain("configured-api-key-value", published.Read(KubernetesWriter.ManifestFileName), StringComparison.Ordinal);

        foreach (var name in new[] { "prefill-0", "decode-0" })
        {
            var container = Deployment(objects, name).Spec.Template.Spec.Containers.Single();
            var args = container.Args.ToList();

            // Kubernetes expands $(VAR) in args from the container's environment.
            Assert.Equal("$(VLLM_API_KEY)", args[args.IndexOf("--api-key") + 1]);
            AssertSecretRef(container.Env.Single(e => e.Name == "VLLM_API_KEY"), "vllm-api-key");
            AssertSecretRef(container.Env.Single(e => e.Name == "HF_TOKEN"), "hf-token");
            Assert.Equal(container.Env.Select(e => e.Name).Distinct(), container.Env.Select(e => e.Name));
        }

        var proxy = Deployment(objects, "proxy").Spec.Template.Spec.Containers.Single();
        AssertSecretRef(proxy.Env.Single(e => e.Name == "Pd__UpstreamApiKey"), "vllm-api-key");
        Assert.DoesNotContain("Pd__UpstreamApiKey", objects.OfType<V1ConfigMap>().Single().Data.Keys);
        Assert.DoesNotContain(objects, o => o.Kind == "Secret");
        Assert.DoesNotContain("{vllm-api-key.value}", published.Read(KubernetesWriter.ManifestFileName), StringComparison.Ordinal);
    }

    [Fact]
    public async Task P2pNcclOnBridgeNetwork_InstancesRegisterWithTheProxyService()
    {
        var (_, objects) = await PublishAsync(Topologies.P2pNcclBridge1P1D);

        var container = Deployment(objects, "prefill-0").Spec.Template.Spec.Containers.Single();
        var kvConfig = container.Args.Single(a => a.StartsWith('{'));
        Assert.Contains("\"proxy_ip\":\"proxy\"", kvConfig, StringComparison.Ordinal);
        Assert.Contains("\"proxy_port\":\"30001\"", kvConfig, StringComparison.Ordinal);

        // The per-instance headless Service makes the model's peer name resolve to the pod.
        Assert.Equal("prefill-0", container.Env.Single(e => e.Name == "VLLM_HOST_IP").Value);
        Assert.Equal("None", Service(objects, "prefill-0").Spec.ClusterIP);

        var proxyService = Service(objects, "proxy");
        Assert.Equal(["http:8000", "registry:30001"], proxyService.Spec.Ports.Select(p => $"{p.Name}:{p.Port}"));
        var data = objects.OfType<V1ConfigMap>().Single().Data;
        Assert.Equal("30001", data["Pd__Registry__Port"]);
        Assert.Equal("prefill-0:21001", data["Pd__Instances__0__KvAddress"]);
    }

    [Fact]
    public async Task P2pNccl2P2DOnHostNetwork_PodsUseTheNodeNetwork()
    {
        var (published, objects) = await PublishAsync(Topologies.P2pNccl2P2D);

        foreach (var (name, port) in new[] { ("prefill-0", 8100), ("prefill-1", 8101), ("decode-0", 8200), ("decode-1", 8201) })
        {
            var pod = Deployment(objects, name).Spec.Template.Spec;
            Assert.True(pod.HostNetwork);
            Assert.Equal("ClusterFirstWithHostNet", pod.DnsPolicy);
            var container = pod.Containers.Single();
            Assert.Equal(port, container.Ports.Single().HostPort);
            Assert.Equal(published.ModelArgs[name], container.Args);
        }
    }

    [Fact]
    public async Task PyNccl1P1D_EnginesArePrivilegedWithCapabilities()
    {
        var (_, objects) = await PublishAsync(Topologies.PyNccl1P1D);

        foreach (var name in new[] { "prefill-0", "decode-0" })
        {
            var container = Deployment(objects, name).Spec.Template.Spec.Containers.Single();
            Assert.True(container.SecurityContext.Privileged);
            Assert.Equal(["SYS_PTRACE"], container.SecurityContext.Capabilities.Add);
            Assert.Equal("1", container.Resources.Limits[KubernetesWriter.GpuResourceName].ToString());
            Assert.Equal("eth0", container.Env.Single(e => e.Name == "NCCL_SOCKET_IFNAME").Value);
            Assert.Contains("\"kv_connector\":\"PyNcclConnector\"", container.Args.Single(a => a.StartsWith('{')), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task HuggingFaceCache_IsASecondNodeFolderWhileDataUsesTheModelClaim()
    {
        var (_, objects) = await PublishAsync(["--Pd:HuggingFaceCachePath=/var/cache/hf", "--Pd:Kubernetes:ModelVolume=pvc:models"]);

        var pod = Deployment(objects, "prefill-0").Spec.Template.Spec;
        var mounts = pod.Containers.Single().VolumeMounts.ToDictionary(m => m.MountPath, m => m.Name);
        Assert.Equal("models", pod.Volumes.Single(v => v.Name == mounts["/data"]).PersistentVolumeClaim.ClaimName);
        Assert.Equal("/var/cache/hf", pod.Volumes.Single(v => v.Name == mounts["/root/.cache/huggingface"]).HostPath.Path);
        Assert.Equal(pod.Volumes.Count, pod.Volumes.Select(v => v.Name).Distinct().Count());
    }

    [Fact]
    public async Task TensorParallel2_EachEngineLimitsTwoGpus()
    {
        var (_, objects) = await PublishAsync(["--Pd:TensorParallelSize=2"]);

        Assert.All(
            objects.OfType<V1Deployment>().Where(d => d.Metadata.Name != "proxy"),
            d => Assert.Equal("2", d.Spec.Template.Spec.Containers.Single().Resources.Limits[KubernetesWriter.GpuResourceName].ToString()));
    }

    [Fact]
    public async Task KubernetesSettings_ChooseNamespaceModelClaimShmLimitAndProxyImage()
    {
        var (_, objects) = await PublishAsync(
        [
            "--Pd:Kubernetes:Namespace=llm", "--Pd:Kubernetes:CreateNamespace=false", "--Pd:Kubernetes:ModelVolume=pvc:models",
            "--Pd:Kubernetes:ShmSizeLimit=16Gi", "--Pd:Kubernetes:ProxyImage=registry.example/pd/proxy:1.2", "--Pd:Kubernetes:StartupTimeoutSeconds=600",
        ]);

        Assert.DoesNotContain(objects, o => o.Kind == "Namespace");
        Assert.All(objects, o => Assert.Equal("llm", o.Metadata.NamespaceProperty));
        var pod = Deployment(objects, "decode-0").Spec.Template.Spec;
        Assert.Equal("models", pod.Volumes.Single(v => v.PersistentVolumeClaim is not null).PersistentVolumeClaim.ClaimName);
        Assert.DoesNotContain(pod.Volumes, v => v.HostPath is not null);
        Assert.Equal("16Gi", pod.Volumes.Single(v => v.EmptyDir is not null).EmptyDir.SizeLimit.ToString());
        var startup = pod.Containers.Single().StartupProbe;
        Assert.Equal(600, startup.PeriodSeconds * startup.FailureThreshold);
        Assert.Equal("registry.example/pd/proxy:1.2", Deployment(objects, "proxy").Spec.Template.Spec.Containers.Single().Image);
    }

    [Theory]
    [InlineData("--Pd:Kubernetes:ModelVolume=nfs:/models", "Pd:Kubernetes:ModelVolume")]
    [InlineData("--Pd:Kubernetes:Namespace=Not_A_Label", "Pd:Kubernetes:Namespace")]
    [InlineData("--Pd:Kubernetes:StartupTimeoutSeconds=1", "Pd:Kubernetes:StartupTimeoutSeconds")]
    public async Task InvalidKubernetesSetting_FailsNamingTheSetting(string setting, string key)
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => DeploymentPublishing.PublishAsync(KubernetesWriter.PublisherName, setting));
        Assert.Contains(key, error.Message, StringComparison.Ordinal);
    }

    private static async Task<(DeploymentPublishing.Published Published, List<IKubernetesObject<V1ObjectMeta>> Objects)> PublishAsync(string[] settings)
    {
        var published = await DeploymentPublishing.PublishAsync(KubernetesWriter.PublisherName, settings);
        var objects = KubernetesYaml.LoadAllFromString(published.Read(KubernetesWriter.ManifestFileName))
            .Cast<IKubernetesObject<V1ObjectMeta>>()
            .ToList();
        return (published, objects);
    }

    private static V1Deployment Deployment(IEnumerable<IKubernetesObject<V1ObjectMeta>> objects, string name) =>
        objects.OfType<V1Deployment>().Single(d => d.Metadata.Name == name);

    private static V1Service Service(IEnumerable<IKubernetesObject<V1ObjectMeta>> objects, string name) =>
        objects.OfType<V1Service>().Single(s => s.Metadata.Name == name);

    private static void AssertSecretRef(V1EnvVar variable, string key)
    {
        Assert.Null(variable.Value);
        Assert.Equal("pdapp-secrets", variable.ValueFrom.SecretKeyRef.Name);
        Assert.Equal(key, variable.ValueFrom.SecretKeyRef.Key);
    }
}
