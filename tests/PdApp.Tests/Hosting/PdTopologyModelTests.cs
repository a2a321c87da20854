using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;
using PdApp.Hosting;
using PdApp.Hosting.Topology;
using PdApp.Protocol;
using PdApp.Protocol.P2pNccl;

namespace PdApp.Tests.Hosting;

/// <summary>The app model <c>AddPdInstances</c> and <c>WithPdInstances</c> declare, per backend and connector.</summary>
public sealed class PdTopologyModelTests
{
    private static (IDistributedApplicationBuilder Builder, PdTopology Topology, IResourceBuilder<PdProxyResource> Proxy) Declare(
        PdBackend backend, params (string Key, string Value)[] settings)
    {
        var options = PdOptionsLoader.Load(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build());
        var builder = AppModel.CreateBuilder();
        var topology = builder.AddPdInstances<Projects.PdApp_Simulator>(options, new PdBackendDecision(backend, "chosen by the test"));
        var proxy = builder.AddPdProxy<Projects.PdApp_Proxy>(PdProxyResource.DefaultName).WithPdInstances(topology);
        return (builder, topology, proxy);
    }

    private static VllmResource Container(IDistributedApplicationBuilder builder, string name) =>
        Assert.IsType<VllmResource>(builder.Resources.Single(r => r.Name == name));

    private static List<string> WithoutKvJson(IEnumerable<string> args)
    {
        var list = args.ToList();
        list[list.IndexOf("--kv-transfer-config") + 1] = "<json>";
        return list;
    }

    private static KvTransferConfig KvConfig(IReadOnlyList<string> args) =>
        KvTransferConfig.Parse(args[args.ToList().IndexOf("--kv-transfer-config") + 1]);

    [Fact]
    public async Task VllmBackend_Default_DeclaresTheGuidesSharedStoragePair()
    {
        var (builder, _, _) = Declare(PdBackend.Vllm);

        var prefill = Container(builder, "prefill-0");
        var decode = Container(builder, "decode-0");
        var (prefillArgs, prefillEnv) = await AppModel.EvaluateAsync(prefill);
        var (decodeArgs, _) = await AppModel.EvaluateAsync(decode);

        Assert.Equal(PdRole.Prefill, prefill.Role);
        Assert.Equal(["serve", "/data/dp7b/", "--port", "8100"], prefillArgs.Take(4));
        Assert.Equal(["serve", "/data/dp7b/", "--port", "8200"], decodeArgs.Take(4));
        Assert.Contains("--max-model-len", prefillArgs);
        Assert.Equal("4096", prefillArgs[prefillArgs.ToList().IndexOf("--max-model-len") + 1]);
        Assert.Equal("0.8", prefillArgs[prefillArgs.ToList().IndexOf("--gpu-memory-utilization") + 1]);
        var prefillKv = KvConfig(prefillArgs);
        var decodeKv = KvConfig(decodeArgs);
        Assert.Equal((KvConnectorNames.SharedStorage, KvRoles.Producer), (prefillKv.KvConnector, prefillKv.KvRole));
        Assert.Equal((KvConnectorNames.SharedStorage, KvRoles.Consumer), (decodeKv.KvConnector, decodeKv.KvRole));
        Assert.Equal("/data/models/pd_local_storage", decodeKv.KvConnectorExtraConfig!["shared_storage_path"]!.GetValue<string>());
        Assert.Equal("0", prefillEnv["CUDA_VISIBLE_DEVICES"]);
        Assert.Equal(["--gpus", "\"device=0\""], (await prefill.GetContainerRuntimeArgsAsync()).Take(2));
        Assert.Equal(["--gpus", "\"device=1\""], (await decode.GetContainerRuntimeArgsAsync()).Take(2));
        var mount = Assert.Single(decode.Annotations.OfType<ContainerMountAnnotation>());
        Assert.Equal(("/data", "/data"), (mount.Source, mount.Target));
    }

    [Fact]
    public async Task VllmBackend_GuidePyNccl_RendezvousesAtTheHostAddressOnTheHostNetwork()
    {
        var (builder, _, _) = Declare(PdBackend.Vllm, ("Pd:Recipe", "guide-pynccl"), ("Pd:HostAddress", "192.168.1.20"));

        var prefill = Container(builder, "prefill-0");
        var (prefillArgs, env) = await AppModel.EvaluateAsync(prefill);
        var (decodeArgs, _) = await AppModel.EvaluateAsync(Container(builder, "decode-0"));
        var runtimeArgs = await prefill.GetContainerRuntimeArgsAsync();

        var p = KvConfig(prefillArgs);
        var d = KvConfig(decodeArgs);
        Assert.Equal((0, 1), (p.KvRank, d.KvRank));
        Assert.Equal((2, 2), (p.KvParallelSize, d.KvParallelSize));
        Assert.Equal(("192.168.1.20", "192.168.1.20"), (p.KvIp, d.KvIp));
        Assert.Equal(14579, p.KvPort);
        Assert.Equal("65535", prefillArgs[prefillArgs.ToList().IndexOf("--max-model-len") + 1]);
        Assert.Equal("0.9", prefillArgs[prefillArgs.ToList().IndexOf("--gpu-memory-utilization") + 1]);
        Assert.Contains("--trust-remote-code", prefillArgs);
        Assert.Equal(
            ["--gpus", "\"device=0\"", "--ipc=host", "--ulimit", "memlock=-1", "--ulimit", "stack=67108864", "--privileged", "--cap-add=SYS_PTRACE", "--network=host"],
            runtimeArgs);
        Assert.Equal(("eth0", "eth0", "0"), (env["GLOO_SOCKET_IFNAME"], env["NCCL_SOCKET_IFNAME"], env["CUDA_VISIBLE_DEVICES"]));
        var image = prefill.Annotations.OfType<ContainerImageAnnotation>().Single();
        Assert.Equal(("registry.cn-hangzhou.aliyuncs.com", "lky-deploy/llm", "vllm-server-0.7.2"), (image.Registry, image.Image, image.Tag));
    }

    [Fact]
    public async Task VllmBackend_PyNcclOnTheContainerNetwork_RendezvousesAtThePrefillResourceName()
    {
        var (builder, _, _) = Declare(PdBackend.Vllm, ("Pd:Connector", "PyNcclConnector"));

        var (decodeArgs, _) = await AppModel.EvaluateAsync(Container(builder, "decode-0"));

        Assert.Equal("prefill-0", KvConfig(decodeArgs).KvIp);
    }

    [Fact]
    public async Task VllmBackend_P2pNccl_RegistersWithTheProxysRegistryEndpoint()
    {
        var (builder, _, proxy) = Declare(PdBackend.Vllm, ("Pd:Connector", "P2pNcclConnector"), ("Pd:Decode:Count", "2"));

        var (decodeArgs, decodeEnv) = await AppModel.EvaluateAsync(Container(builder, "decode-1"));
        var (_, proxyEnv) = await AppModel.EvaluateAsync(proxy.Resource);

        var kv = KvConfig(decodeArgs);
        Assert.Equal(22002, kv.KvPort);
        Assert.Equal("host.docker.internal", kv.KvConnectorExtraConfig!["proxy_ip"]!.GetValue<string>());
        Assert.Equal("30001", kv.KvConnectorExtraConfig!["proxy_port"]!.GetValue<string>());
        Assert.Equal("8201", kv.KvConnectorExtraConfig!["http_port"]!.GetValue<string>());
        Assert.Equal("decode-1", decodeEnv["VLLM_HOST_IP"]);
        var registry = proxy.Resource.Annotations.OfType<EndpointAnnotation>().Single(e => e.Name == PdProxyResource.RegistryEndpointName);
        Assert.Equal(("tcp", 30001, 30001, false), (registry.UriScheme, registry.Port, registry.TargetPort, registry.IsProxied));
        Assert.Equal("30001", proxyEnv["Pd__Registry__Port"]);
        Assert.Equal("decode-1:22002", proxyEnv["Pd__Instances__2__KvAddress"]);
        Assert.Equal("prefill-0:21001", proxyEnv["Pd__Instances__0__KvAddress"]);
    }

    [Fact]
    public async Task VllmBackend_Nixl_GivesEachInstanceItsOwnSideChannel()
    {
        var (builder, _, _) = Declare(PdBackend.Vllm, ("Pd:Connector", "NixlConnector"), ("Pd:Prefill:Count", "2"));

        var envs = new List<IReadOnlyDictionary<string, string>>();
        foreach (var name in new[] { "prefill-0", "prefill-1", "decode-0" })
        {
            var (args, env) = await AppModel.EvaluateAsync(Container(builder, name));
            Assert.Equal(KvRoles.Both, KvConfig(args).KvRole);
            Assert.Equal(name, env["VLLM_NIXL_SIDE_CHANNEL_HOST"]);
            envs.Add(env);
        }

        Assert.Equal(["5600", "5601", "5602"], envs.Select(e => e["VLLM_NIXL_SIDE_CHANNEL_PORT"]));
        Assert.All(envs, e => Assert.Equal("cuda_ipc,cuda_copy,tcp", e["UCX_TLS"]));
    }

    [Fact]
    public async Task VllmBackend_LMCache_SendersNotifyTheProxy_ReceiversListen_AndTheProxyKnowsEachReceiver()
    {
        var (builder, _, proxy) = Declare(
            PdBackend.Vllm, ("Pd:Connector", "LMCacheConnectorV1"), ("Pd:Prefill:Count", "2"), ("Pd:Decode:Count", "2"), ("Pd:TensorParallelSize", "2"));

        var (_, p1) = await AppModel.EvaluateAsync(Container(builder, "prefill-1"));
        var (_, d1) = await AppModel.EvaluateAsync(Container(builder, "decode-1"));
        var (_, proxyEnv) = await AppModel.EvaluateAsync(proxy.Resource);

        // LMCache 0.3.x names (lmcache/v1/config.py); the 0.2 NIXL names configure nothing in the pinned image.
        Assert.Equal(("True", "sender", "nixl"), (p1["LMCACHE_ENABLE_PD"], p1["LMCACHE_PD_ROLE"], p1["LMCACHE_TRANSFER_CHANNEL"]));
        Assert.Equal(("host.docker.internal", "7500"), (p1["LMCACHE_PD_PROXY_HOST"], p1["LMCACHE_PD_PROXY_PORT"]));
        Assert.Equal(("True", "receiver", "0.0.0.0"), (d1["LMCACHE_ENABLE_PD"], d1["LMCACHE_PD_ROLE"], d1["LMCACHE_PD_PEER_HOST"]));

        // Decode 1 with two TP ranks: init 7302,7303 and alloc 7402,7403, one port per rank.
        Assert.Equal(("7302,7303", "7402,7403"), (d1["LMCACHE_PD_PEER_INIT_PORT"], d1["LMCACHE_PD_PEER_ALLOC_PORT"]));
        Assert.Equal(("1073741824", "cuda", "UCX"), (d1["LMCACHE_PD_BUFFER_SIZE"], d1["LMCACHE_PD_BUFFER_DEVICE"], d1["LMCACHE_NIXL_BACKENDS"]));
        Assert.DoesNotContain(p1.Keys.Concat(d1.Keys), k => k is "LMCACHE_ENABLE_NIXL" or "LMCACHE_NIXL_ROLE" or "LMCACHE_NIXL_RECEIVER_HOST");
        Assert.Equal("lmcache/vllm-openai", Container(builder, "decode-1").Annotations.OfType<ContainerImageAnnotation>().Single().Image);

        // LMCache's image installs vLLM into /opt/venv without putting it on PATH (its ENTRYPOINT names /opt/venv/bin/vllm).
        Assert.Equal("/opt/venv/bin/vllm", Container(builder, "decode-1").Entrypoint);

        var decode1 = Enumerable.Range(0, 4).Single(i => proxyEnv[$"Pd__Instances__{i}__Name"] == "decode-1");
        Assert.Equal(("decode-1:7302", "7402", "2"), (proxyEnv[$"Pd__Instances__{decode1}__KvAddress"], proxyEnv[$"Pd__Instances__{decode1}__KvAllocPort"], proxyEnv[$"Pd__Instances__{decode1}__KvRanks"]));
        Assert.Equal("7500", proxyEnv["Pd__LMCache__NotificationPort"]);
        Assert.Contains(proxy.Resource.Annotations.OfType<EndpointAnnotation>(), e => e.Name == "kv-ready" && e.Port == 7500 && !e.IsProxied);
    }

    [Fact]
    public async Task VllmBackend_Multi_TellsTheProxyItsChildren()
    {
        var (builder, _, proxy) = Declare(
            PdBackend.Vllm, ("Pd:Connector", "MultiConnector"), ("Pd:Multi:Connectors:0", "NixlConnector"), ("Pd:Multi:Connectors:1", "SharedStorageConnector"));

        var (args, env) = await AppModel.EvaluateAsync(Container(builder, "decode-0"));
        var (_, proxyEnv) = await AppModel.EvaluateAsync(proxy.Resource);

        var children = KvConfig(args).KvConnectorExtraConfig!["connectors"]!.AsArray();
        Assert.Equal(2, children.Count);
        Assert.Equal("5601", env["VLLM_NIXL_SIDE_CHANNEL_PORT"]);
        Assert.Equal(KvConnectorNames.Multi, proxyEnv["Pd__Connector"]);
        Assert.Equal(KvConnectorNames.Nixl, proxyEnv["Pd__ChildConnectors__0"]);
        Assert.Equal(KvConnectorNames.SharedStorage, proxyEnv["Pd__ChildConnectors__1"]);
    }

    [Fact]
    public async Task Proxy_ReceivesEveryInstanceByServiceDiscoveryWithoutWaitingForIt()
    {
        var (_, _, proxy) = Declare(PdBackend.Vllm, ("Pd:ServedModelName", "dp7b"));

        var (_, env) = await AppModel.EvaluateAsync(proxy.Resource);

        Assert.Equal(KvConnectorNames.SharedStorage, env["Pd__Connector"]);
        Assert.Equal("dp7b", env["Pd__Model"]);
        Assert.Equal(("prefill-0", "Prefill", "http://prefill-0"), (env["Pd__Instances__0__Name"], env["Pd__Instances__0__Role"], env["Pd__Instances__0__Address"]));
        Assert.Equal(("decode-0", "Decode", "http://decode-0"), (env["Pd__Instances__1__Name"], env["Pd__Instances__1__Role"], env["Pd__Instances__1__Address"]));
        Assert.Equal("{prefill-0.bindings.http.url}", env["services__prefill-0__http__0"]);
        Assert.Equal("{decode-0.bindings.http.url}", env["services__decode-0__http__0"]);
        Assert.Empty(proxy.Resource.Annotations.OfType<WaitAnnotation>());
    }

    [Fact]
    public async Task UseApiKey_PassesTheSecretParameterToEnginesAndProxy()
    {
        var (builder, topology, proxy) = Declare(PdBackend.Vllm, ("Pd:UseApiKey", "true"), ("Pd:UseHuggingFaceToken", "true"));

        var (args, env) = await AppModel.EvaluateAsync(Container(builder, "prefill-0"));
        var (_, proxyEnv) = await AppModel.EvaluateAsync(proxy.Resource);

        Assert.True(topology.ApiKey!.Resource.Secret);
        Assert.Equal("{vllm-api-key.value}", args[args.ToList().IndexOf("--api-key") + 1]);
        Assert.Equal("{hf-token.value}", env["HF_TOKEN"]);
        Assert.Equal("{vllm-api-key.value}", proxyEnv["Pd__UpstreamApiKey"]);
    }

    [Fact]
    public async Task SimulatorBackend_P2pNccl_RegistryBindsAndAcceptsLoopbackOnly_AndRegistrationsAreSignedWithAGeneratedSecret()
    {
        var (builder, _, proxy) = Declare(PdBackend.Simulator, ("Pd:Connector", "P2pNcclConnector"), ("Pd:Decode:Count", "2"));

        var (_, proxyEnv) = await AppModel.EvaluateAsync(proxy.Resource);
        var (_, simEnv) = await AppModel.EvaluateAsync(builder.Resources.Single(r => r.Name == "decode-1"));

        Assert.Equal("127.0.0.1", proxyEnv["Pd__Registry__BindAddress"]);
        Assert.Equal(["127.0.0.1"], RegistryAllowlist(proxyEnv));
        Assert.Equal("{pdapp-registry-secret.value}", proxyEnv["Pd__Registry__SharedSecret"]);
        Assert.Equal("{pdapp-registry-secret.value}", simEnv[P2pNcclRegistrationMessage.SharedSecretVariable]);
        var secret = Assert.IsType<ParameterResource>(builder.Resources.Single(r => r.Name == PdTopologyBuilderExtensions.RegistrySecretParameterName));
        Assert.True(secret.Secret);

        // Generated once and kept in the app host's user secrets in run mode, like the proxy's keys.
        Assert.NotNull(secret.Default);
    }

    [Fact]
    public async Task VllmBackend_P2pNccl_RegistryAcceptsOnlyTheContainersNames_AndAsksNoSignatureVllmCannotGive()
    {
        var (builder, _, proxy) = Declare(PdBackend.Vllm, ("Pd:Connector", "P2pNcclConnector"), ("Pd:Decode:Count", "2"));

        var (_, proxyEnv) = await AppModel.EvaluateAsync(proxy.Resource);

        // The proxy is a host process reached through host.docker.internal, whose address is the network's gateway.
        Assert.Equal("*", proxyEnv["Pd__Registry__BindAddress"]);
        Assert.Equal(["decode-0", "decode-1", "prefill-0"], RegistryAllowlist(proxyEnv));
        Assert.False(proxyEnv.ContainsKey("Pd__Registry__SharedSecret"));
        Assert.DoesNotContain(builder.Resources, r => r.Name == PdTopologyBuilderExtensions.RegistrySecretParameterName);
    }

    private static List<string> RegistryAllowlist(IReadOnlyDictionary<string, string> env) =>
        [.. env.Where(e => e.Key.StartsWith("Pd__Registry__AllowedNetworks__", StringComparison.Ordinal)).Select(e => e.Value).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task SimulatorBackend_RunsProjectsWithTheContainersEngineArgumentsOnLoopback()
    {
        var (containerBuilder, _, _) = Declare(PdBackend.Vllm, ("Pd:Connector", "P2pNcclConnector"), ("Pd:ServedModelName", "dp7b"));
        var (builder, topology, _) = Declare(PdBackend.Simulator, ("Pd:Connector", "P2pNcclConnector"), ("Pd:ServedModelName", "dp7b"));

        var simulator = Assert.IsType<ProjectResource>(builder.Resources.Single(r => r.Name == "decode-0"));
        var (simArgs, simEnv) = await AppModel.EvaluateAsync(simulator);
        var (containerArgs, _) = await AppModel.EvaluateAsync(Container(containerBuilder, "decode-0"));

        // Same flags as after `vllm serve`, bound to loopback and to the endpoint's target port.
        Assert.Equal(["/data/dp7b/", "--host", "127.0.0.1", "--port", "{decode-0.bindings.http.targetPort}"], simArgs.Take(5));
        Assert.Equal(["serve", "/data/dp7b/", "--port", "8200"], containerArgs.Take(4));
        Assert.Equal(WithoutKvJson(containerArgs.Skip(4)), WithoutKvJson(simArgs.Skip(5)));
        var kv = KvConfig(simArgs);
        var containerKv = KvConfig(containerArgs);
        Assert.Equal((containerKv.KvConnector, containerKv.KvRole, containerKv.KvPort), (kv.KvConnector, kv.KvRole, kv.KvPort));
        Assert.Equal("127.0.0.1", kv.KvConnectorExtraConfig!["proxy_ip"]!.GetValue<string>());
        Assert.Equal("127.0.0.1", simEnv["VLLM_HOST_IP"]);
        Assert.Equal("127.0.0.1:22001", topology.Instances[1].Plan.KvConnector!.KvAddress);
        var endpoint = simulator.Annotations.OfType<EndpointAnnotation>().Single();
        Assert.Equal((VllmResource.HttpEndpointName, 8200), (endpoint.Name, endpoint.Port));
        Assert.Single(simulator.Annotations.OfType<HealthCheckAnnotation>());
    }

    [Fact]
    public async Task SimulatorBackend_SharedStorage_UsesAHostFolderInsteadOfData()
    {
        var (builder, topology, _) = Declare(PdBackend.Simulator);

        var (args, _) = await AppModel.EvaluateAsync(builder.Resources.Single(r => r.Name == "prefill-0"));

        var path = KvConfig(args).KvConnectorExtraConfig!["shared_storage_path"]!.GetValue<string>();
        Assert.Equal(Path.Combine(topology.Plan.SimulatorDataRoot!, "models", "pd_local_storage"), path);
        Assert.StartsWith(Path.GetTempPath(), path, StringComparison.Ordinal);
        Assert.True(Directory.Exists(path));
    }

    [Fact]
    public async Task ExternalBackend_DeclaresHealthCheckedExternalServicesTheProxyDiscovers()
    {
        var (builder, _, proxy) = Declare(
            PdBackend.External, ("Pd:Backend", "external"), ("Pd:External:Prefill:0", "http://10.0.0.11:8100"), ("Pd:External:Decode:0", "https://10.0.0.12:8200"));

        var prefill = Assert.IsType<ExternalServiceResource>(builder.Resources.Single(r => r.Name == "prefill-0"));
        var (_, env) = await AppModel.EvaluateAsync(proxy.Resource);

        Assert.Equal(new Uri("http://10.0.0.11:8100"), prefill.Uri);
        Assert.Single(prefill.Annotations.OfType<HealthCheckAnnotation>());
        Assert.Equal("http://prefill-0", env["Pd__Instances__0__Address"]);
        Assert.Equal("https://decode-0", env["Pd__Instances__1__Address"]);
        Assert.Contains(env, e => e.Key.StartsWith("services__decode-0__", StringComparison.Ordinal) && e.Value.StartsWith("https://10.0.0.12:8200", StringComparison.Ordinal));
        Assert.DoesNotContain(builder.Resources, r => r is VllmResource or ProjectResource { Name: not "proxy" });
    }

    [Fact]
    public async Task KvConnectorExtraConfig_IsAddedToTheConnectorsExtraConfig()
    {
        var (builder, _, _) = Declare(PdBackend.Vllm, ("Pd:KvConnectorExtraConfig:backends", "cpu"));

        var (args, _) = await AppModel.EvaluateAsync(Container(builder, "decode-0"));

        var extra = KvConfig(args).KvConnectorExtraConfig!;
        Assert.Equal("cpu", extra["backends"]!.GetValue<string>());
        Assert.Equal("/data/models/pd_local_storage", extra["shared_storage_path"]!.GetValue<string>());
    }
}
