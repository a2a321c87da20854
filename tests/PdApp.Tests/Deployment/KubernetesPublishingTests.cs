using PdApp.Hosting.Deployment.Kubernetes;
using k8s;
using k8s.Models;

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
            ["Namespace/pdapp", "PersistentVolumeClaim/pdapp-models", "Service/prefill", "Deployment/prefill", "PodDisruptionBudget/prefill",
             "Service/decode", "Deployment/decode", "PodDisruptionBudget/decode", "ConfigMap/proxy-config", "Deployment/proxy", "Service/proxy",
             "PodDisruptionBudget/proxy"],
            objects.Select(o => $"{o.Kind}/{o.Metadata.Name}"));
        foreach (var item in objects.Skip(1))
        {
            Assert.Equal("pdapp", item.Metadata.NamespaceProperty);
            Assert.All(RecommendedLabels, label => Assert.True(item.Metadata.Labels.ContainsKey(label), $"{item.Kind}/{item.Metadata.Name} lacks {label}"));
            Assert.Equal("pdapp", item.Metadata.Labels["app.kubernetes.io/part-of"]);
        }

        var prefill = Deployment(objects, "prefill");
        Assert.Equal(1, prefill.Spec.Replicas);
        Assert.Equal("prefill", prefill.Metadata.Labels["pdapp.io/role"]);
        Assert.Equal("vllm", prefill.Metadata.Labels["app.kubernetes.io/name"]);
        Assert.Equal("decode", Deployment(objects, "decode").Metadata.Labels["pdapp.io/role"]);
        Assert.DoesNotContain(objects, o => o.Kind == "Secret");
    }

    [Theory]
    [MemberData(nameof(InterchangeableConnectors2P2D))]
    public async Task Interchangeable2P2D_OneDeploymentPerRoleWithTwoReplicasOfTheFirstInstance(string connector, string[] settings)
    {
        var (published, objects) = await PublishAsync(settings);

        Assert.Equal(["prefill", "decode", "proxy"], objects.OfType<V1Deployment>().Select(d => d.Metadata.Name));
        Assert.Empty(objects.OfType<V1StatefulSet>());
        foreach (var (role, port) in new[] { ("prefill", 8100), ("decode", 8200) })
        {
            var deployment = Deployment(objects, role);
            Assert.Equal(2, deployment.Spec.Replicas);

            // One pod at a time, never a surge pod that would need GPUs the role does not have.
            Assert.Equal("RollingUpdate", deployment.Spec.Strategy.Type);
            Assert.Equal(("0", "1"), (deployment.Spec.Strategy.RollingUpdate.MaxSurge.Value, deployment.Spec.Strategy.RollingUpdate.MaxUnavailable.Value));
            Assert.All(deployment.Spec.Selector.MatchLabels, l => Assert.Equal(l.Value, deployment.Spec.Template.Metadata.Labels[l.Key]));
            Assert.Equal(role, deployment.Spec.Template.Metadata.Labels["pdapp.io/role"]);

            var container = Assert.Single(deployment.Spec.Template.Spec.Containers);
            var args = container.Args.ToList();
            Assert.Equal(port.ToString(System.Globalization.CultureInfo.InvariantCulture), args[args.IndexOf("--port") + 1]);
            Assert.Contains($"\"kv_connector\":\"{connector}\"", args.Single(a => a.StartsWith('{')), StringComparison.Ordinal);
            Assert.Equal(("http", port), (container.Ports.Single().Name, container.Ports.Single().ContainerPort));
            Assert.Equal("1", container.Resources.Limits[KubernetesWriter.GpuResourceName].ToString());
            Assert.DoesNotContain(container.Env ?? [], e => e.Name == "CUDA_VISIBLE_DEVICES");

            // Every replica advertises its own pod IP, never the single-host container name.
            Assert.DoesNotContain(container.Env ?? [], e => e.Value is { } v && v.StartsWith(role + "-", StringComparison.Ordinal));
        }

        var prefillArgs = Deployment(objects, "prefill").Spec.Template.Spec.Containers.Single().Args;
        Assert.Equal(published.ModelArgs["prefill-0"].Count, prefillArgs.Count);
    }

    public static TheoryData<string, string[]> InterchangeableConnectors2P2D() => new()
    {
        { "SharedStorageConnector", Topologies.SharedStorage2P2D },
        { "NixlConnector", Topologies.Nixl2P2D },
    };

    [Fact]
    public async Task SharedStorage2P2D_PodsKeepTheModelsArgsProbesShmAndDataVolume()
    {
        var (published, objects) = await PublishAsync(Topologies.SharedStorage2P2D);

        foreach (var (role, first) in new[] { ("prefill", "prefill-0"), ("decode", "decode-0") })
        {
            var pod = Deployment(objects, role).Spec.Template.Spec;
            var container = Assert.Single(pod.Containers);
            Assert.Equal("docker.io/vllm/vllm-openai:v0.11.2", container.Image);
            Assert.Equal(["vllm"], container.Command);

            // The role's first instance (on the role's base port) is the template.
            Assert.Equal(published.ModelArgs[first], container.Args);
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
            // The model and the Hugging Face cache live on the generated claim: no node needs a prepared folder.
            var data = pod.Volumes.Single(v => v.Name == container.VolumeMounts.Single(m => m.MountPath == "/data").Name);
            Assert.Equal("pdapp-models", data.PersistentVolumeClaim.ClaimName);
            var cache = container.VolumeMounts.Single(m => m.MountPath == "/root/.cache/huggingface");
            Assert.Equal((data.Name, "hf-cache"), (cache.Name, cache.SubPath));
            Assert.DoesNotContain(pod.Volumes, v => v.HostPath is not null);
        }
    }

    [Fact]
    public async Task SharedStorage2P2D_EachRoleHasAHeadlessServiceOverItsPods()
    {
        var (_, objects) = await PublishAsync(Topologies.SharedStorage2P2D);

        Assert.DoesNotContain(objects, o => o.Metadata.Name is "prefill-0" or "prefill-1" or "decode-0" or "decode-1");
        foreach (var (role, port) in new[] { ("prefill", 8100), ("decode", 8200) })
        {
            var service = Service(objects, role);
            Assert.Equal("None", service.Spec.ClusterIP);

            // KV peers connect while models still load, before readiness; the proxy probes pods itself.
            Assert.True(service.Spec.PublishNotReadyAddresses);
            Assert.Equal(port, Assert.Single(service.Spec.Ports).Port);
            Assert.Equal(role, service.Spec.Selector["pdapp.io/role"]);
            var selected = objects.OfType<V1Deployment>().Where(d => service.Spec.Selector.All(l => d.Spec.Template.Metadata.Labels.TryGetValue(l.Key, out var v) && v == l.Value));
            Assert.Equal([role], selected.Select(d => d.Metadata.Name));
        }

        var proxy = Service(objects, "proxy");
        Assert.Null(proxy.Spec.ClusterIP);
        Assert.Equal(("http", 8000), (Assert.Single(proxy.Spec.Ports).Name, proxy.Spec.Ports[0].Port));
    }

    [Theory]
    [MemberData(nameof(InterchangeableConnectors2P2D))]
    public async Task Interchangeable2P2D_ProxyDiscoversEachRoleFromItsServiceDnsOnTheRolesPort(string connector, string[] settings)
    {
        var (_, objects) = await PublishAsync(settings);

        var data = objects.OfType<V1ConfigMap>().Single().Data;
        Assert.Equal(connector, data["Pd__Connector"]);
        Assert.Equal("prefill.pdapp.svc", data["Pd__Discovery__Dns__Prefill"]);
        Assert.Equal("8100", data["Pd__Discovery__Dns__PrefillPort"]);
        Assert.Equal("decode.pdapp.svc", data["Pd__Discovery__Dns__Decode"]);
        Assert.Equal("8200", data["Pd__Discovery__Dns__DecodePort"]);
        Assert.Equal("8000", data["HTTP_PORTS"]);

        // No static instance list: scaling a role's replicas needs no new proxy configuration.
        Assert.DoesNotContain(data.Keys, k => k.StartsWith("Pd__Instances__", StringComparison.Ordinal));
        Assert.DoesNotContain(data.Keys, k => k.StartsWith("services__prefill", StringComparison.Ordinal) || k.StartsWith("services__decode", StringComparison.Ordinal));

        var proxy = Deployment(objects, "proxy");
        var container = Assert.Single(proxy.Spec.Template.Spec.Containers);
        Assert.Equal(PdApp.Hosting.Deployment.DeploymentDefaults.ProxyImage, container.Image);
        Assert.Equal("IfNotPresent", container.ImagePullPolicy);
        Assert.Equal("proxy-config", Assert.Single(container.EnvFrom).ConfigMapRef.Name);
        Assert.Equal("500m", container.Resources.Requests["cpu"].ToString());
        Assert.True(container.SecurityContext.RunAsNonRoot);
        Assert.Equal("/health", container.ReadinessProbe.HttpGet.Path);
        Assert.Equal("/alive", container.LivenessProbe.HttpGet.Path);
        Assert.Equal(8000, Assert.Single(container.Ports).ContainerPort);
    }

    [Fact]
    public async Task PdProxySettings_OfTheAppHost_AreInTheProxysConfigMap()
    {
        var (_, objects) = await PublishAsync(["--Pd:Proxy:Timeouts:DecodeIdleSeconds=42", "--Pd:Proxy:Admission:MaxQueueLength=9"]);

        var data = objects.OfType<V1ConfigMap>().Single().Data;
        Assert.Equal("42", data["Pd__Proxy__Timeouts__DecodeIdleSeconds"]);
        Assert.Equal("9", data["Pd__Proxy__Admission__MaxQueueLength"]);
    }

    [Fact]
    public async Task AmdGpus_PodsLimitAmdGpusAndLeaveTheDeviceChoiceToThePlugin()
    {
        var (_, objects) = await PublishAsync(["--Pd:GpuVendor=Amd"]);

        var container = Assert.Single(Deployment(objects, "decode").Spec.Template.Spec.Containers);
        Assert.Equal("1", container.Resources.Limits[KubernetesWriter.AmdGpuResourceName].ToString());
        Assert.False(container.Resources.Limits.ContainsKey(KubernetesWriter.GpuResourceName));
        Assert.DoesNotContain(container.Env ?? [], e => e.Name == "HIP_VISIBLE_DEVICES");
    }

    [Fact]
    public async Task Nixl2P2D_EachPodAdvertisesItsOwnSideChannelAddress()
    {
        var (_, objects) = await PublishAsync(Topologies.Nixl2P2D);

        foreach (var role in new[] { "prefill", "decode" })
        {
            var env = Deployment(objects, role).Spec.Template.Spec.Containers.Single().Env;
            Assert.Equal("status.podIP", env.Single(e => e.Name == "VLLM_NIXL_SIDE_CHANNEL_HOST").ValueFrom.FieldRef.FieldPath);
            Assert.NotNull(env.Single(e => e.Name == "VLLM_NIXL_SIDE_CHANNEL_PORT").Value);
        }
    }

    [Fact]
    public async Task LMCache1P1D_DecodePodsListenOnTheSharedPorts_PrefillNotifiesTheProxyService_TheProxyNamesEachPod()
    {
        var (_, objects) = await PublishAsync(Topologies.LMCache1P1D);

        var decode = Deployment(objects, "decode").Spec.Template.Spec.Containers.Single().Env;
        Assert.Equal("0.0.0.0", decode.Single(e => e.Name == "LMCACHE_PD_PEER_HOST").Value);
        Assert.Equal("receiver", decode.Single(e => e.Name == "LMCACHE_PD_ROLE").Value);
        var prefill = Deployment(objects, "prefill").Spec.Template.Spec.Containers.Single().Env;
        Assert.Equal("sender", prefill.Single(e => e.Name == "LMCACHE_PD_ROLE").Value);
        Assert.Equal("proxy", prefill.Single(e => e.Name == "LMCACHE_PD_PROXY_HOST").Value);
        Assert.DoesNotContain(decode.Concat(prefill), e => e.Name.StartsWith("LMCACHE_NIXL_RECEIVER", StringComparison.Ordinal) || e.Name == "LMCACHE_ENABLE_NIXL");

        // The proxy finds decode pods through DNS and names each as the receiver on the ports every decode pod was given.
        var data = objects.OfType<V1ConfigMap>().Single().Data;
        Assert.Equal("decode.pdapp.svc", data["Pd__Discovery__Dns__Decode"]);
        Assert.Equal(decode.Single(e => e.Name == "LMCACHE_PD_PEER_INIT_PORT").Value, data["Pd__LMCache__InitPort"]);
        Assert.Equal(decode.Single(e => e.Name == "LMCACHE_PD_PEER_ALLOC_PORT").Value, data["Pd__LMCache__AllocPort"]);
        Assert.Equal(prefill.Single(e => e.Name == "LMCACHE_PD_PROXY_PORT").Value, data["Pd__LMCache__NotificationPort"]);
        var proxyService = objects.OfType<V1Service>().Single(s => s.Metadata.Name == "proxy");
        Assert.Contains(proxyService.Spec.Ports, p => p.Name == "kv-ready" && p.Port.ToString() == data["Pd__LMCache__NotificationPort"]);
    }

    [Fact]
    public async Task Secrets_AreReferencedFromTheSecretAndNeverWritten()
    {
        var (published, objects) = await PublishAsync([.. Topologies.SharedStorage1P1D, .. Topologies.WithSecrets, "--Parameters:vllm-api-key=configured-api-key-value"]);
        Assert.DoesNotContain("configured-api-key-value", published.Read(KubernetesWriter.ManifestFileName), StringComparison.Ordinal);

        foreach (var name in new[] { "prefill", "decode" })
        {
            var container = Deployment(objects, name).Spec.Template.Spec.Containers.Single();
            var args = container.Args.ToList();

            // vLLM reads the key from VLLM_API_KEY when --api-key is absent: nothing secret in the args.
            Assert.DoesNotContain("--api-key", args);
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
    public async Task P2pNcclOnBridgeNetwork_PodsRegisterTheirPodIpWithTheProxyService()
    {
        var (_, objects) = await PublishAsync(Topologies.P2pNcclBridge1P1D);

        var container = Deployment(objects, "prefill").Spec.Template.Spec.Containers.Single();
        var kvConfig = container.Args.Single(a => a.StartsWith('{'));
        Assert.Contains("\"proxy_ip\":\"proxy\"", kvConfig, StringComparison.Ordinal);
        Assert.Contains("\"proxy_port\":\"30001\"", kvConfig, StringComparison.Ordinal);

        // Each replica registers (and is reached by peers) at its own pod IP.
        var hostIp = container.Env.Single(e => e.Name == "VLLM_HOST_IP");
        Assert.Null(hostIp.Value);
        Assert.Equal("status.podIP", hostIp.ValueFrom.FieldRef.FieldPath);

        var proxyService = Service(objects, "proxy");
        Assert.Equal(["http:8000", "registry:30001"], proxyService.Spec.Ports.Select(p => $"{p.Name}:{p.Port}"));

        // The registry is the discovery: it gives each instance's ZMQ address, which DNS cannot.
        var data = objects.OfType<V1ConfigMap>().Single().Data;
        Assert.Equal("30001", data["Pd__Registry__Port"]);
        Assert.DoesNotContain(data.Keys, k => k.StartsWith("Pd__Instances__", StringComparison.Ordinal) || k.StartsWith("Pd__Discovery__Dns__", StringComparison.Ordinal));
    }

    [Fact]
    public async Task P2pNccl2P2D_PodsUseThePodNetworkSoSeveralPodsOfARoleFitOnANode()
    {
        var (_, objects) = await PublishAsync(Topologies.P2pNccl2P2D);

        foreach (var role in new[] { "prefill", "decode" })
        {
            var pod = Deployment(objects, role).Spec.Template.Spec;
            Assert.Null(pod.HostNetwork);
            Assert.Null(pod.Containers.Single().Ports.Single().HostPort);
            Assert.Null(pod.Affinity?.PodAntiAffinity);
            Assert.Equal("status.podIP", pod.Containers.Single().Env.Single(e => e.Name == "VLLM_HOST_IP").ValueFrom.FieldRef.FieldPath);
        }
    }

    [Fact]
    public async Task P2pNccl2P2DOnHostNetwork_RoleDeploymentsUseTheNodeNetworkOnePodPerNodeAndTheProxyService()
    {
        var (published, objects) = await PublishAsync([.. Topologies.P2pNccl2P2D, "--Pd:Kubernetes:HostNetwork=true"]);

        foreach (var (role, port) in new[] { ("prefill", 8100), ("decode", 8200) })
        {
            var deployment = Deployment(objects, role);
            Assert.Equal(2, deployment.Spec.Replicas);
            var pod = deployment.Spec.Template.Spec;
            Assert.True(pod.HostNetwork);
            Assert.Equal("ClusterFirstWithHostNet", pod.DnsPolicy);
            var container = pod.Containers.Single();
            Assert.Equal(port, container.Ports.Single().HostPort);

            // Every pod of the role binds the same host ports: never two on one node.
            var anti = Assert.Single(pod.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution);
            Assert.Equal("kubernetes.io/hostname", anti.TopologyKey);
            Assert.Equal(role, anti.LabelSelector.MatchLabels["pdapp.io/role"]);
            var args = container.Args.ToList();
            var portText = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(portText, args[args.IndexOf("--port") + 1]);

            // The single-host address (127.0.0.1) would not reach the proxy pod; http_port matches --port.
            var kvConfig = args.Single(a => a.StartsWith('{'));
            Assert.Contains("\"proxy_ip\":\"proxy\"", kvConfig, StringComparison.Ordinal);
            Assert.Contains($"\"http_port\":\"{portText}\"", kvConfig, StringComparison.Ordinal);
            Assert.Equal("status.podIP", container.Env.Single(e => e.Name == "VLLM_HOST_IP").ValueFrom.FieldRef.FieldPath);
        }

        Assert.Contains("\"proxy_ip\":\"127.0.0.1\"", string.Join(' ', published.ModelArgs["prefill-0"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PyNccl1P1D_StatefulSetsGiveRanksAStableRendezvousName()
    {
        var (_, objects) = await PublishAsync(Topologies.PyNccl1P1D);

        Assert.Equal(["proxy"], objects.OfType<V1Deployment>().Select(d => d.Metadata.Name));
        foreach (var (role, rank) in new[] { ("prefill", 0), ("decode", 1) })
        {
            var set = objects.OfType<V1StatefulSet>().Single(s => s.Metadata.Name == role);
            Assert.Equal(1, set.Spec.Replicas);
            Assert.Equal(role, set.Spec.ServiceName);
            Assert.Equal("Parallel", set.Spec.PodManagementPolicy);
            Assert.True(Service(objects, role).Spec.PublishNotReadyAddresses);
            Assert.All(set.Spec.Selector.MatchLabels, l => Assert.Equal(l.Value, set.Spec.Template.Metadata.Labels[l.Key]));

            var container = set.Spec.Template.Spec.Containers.Single();
            // Never privileged: a privileged pod sees every GPU of its node, so two pods would both use GPU 0.
            Assert.NotEqual(true, container.SecurityContext.Privileged);
            Assert.False(container.SecurityContext.AllowPrivilegeEscalation);
            Assert.Equal(["SYS_PTRACE"], container.SecurityContext.Capabilities.Add);
            Assert.Equal("1", container.Resources.Limits[KubernetesWriter.GpuResourceName].ToString());
            Assert.Equal("eth0", container.Env.Single(e => e.Name == "NCCL_SOCKET_IFNAME").Value);

            // Both members meet at rank 0's pod, prefill-0 of the prefill StatefulSet, by its stable name.
            var kvConfig = container.Args.Single(a => a.StartsWith('{'));
            Assert.Contains("\"kv_connector\":\"PyNcclConnector\"", kvConfig, StringComparison.Ordinal);
            Assert.Contains("\"kv_ip\":\"prefill-0.prefill\"", kvConfig, StringComparison.Ordinal);
            Assert.Contains($"\"kv_rank\":{rank}", kvConfig, StringComparison.Ordinal);
        }

        var data = objects.OfType<V1ConfigMap>().Single().Data;
        Assert.Equal("prefill.pdapp.svc", data["Pd__Discovery__Dns__Prefill"]);
        Assert.Equal("8200", data["Pd__Discovery__Dns__DecodePort"]);
    }

    [Fact]
    public async Task PyNcclWithTwoDecodes_FailsBecauseRanksAreFixedPerPod()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            DeploymentPublishing.PublishAsync(KubernetesWriter.PublisherName, [.. Topologies.PyNccl1P1D, "--Pd:Decode:Count=2", "--Pd:Decode:Instances:1:GpuIds=2", "--Pd:PyNccl:KvParallelSize=3"]));

        Assert.Contains("kv_rank", error.Message, StringComparison.Ordinal);
        Assert.Contains("Pd:Decode:Count=1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HuggingFaceCache_IsASecondNodeFolderWhileDataUsesTheModelClaim()
    {
        var (_, objects) = await PublishAsync(["--Pd:HuggingFaceCachePath=/var/cache/hf", "--Pd:Kubernetes:ModelVolume=pvc:models"]);

        var pod = Deployment(objects, "prefill").Spec.Template.Spec;
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
        var pod = Deployment(objects, "decode").Spec.Template.Spec;
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
        using var published = await DeploymentPublishing.PublishAsync(KubernetesWriter.PublisherName, settings);
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
