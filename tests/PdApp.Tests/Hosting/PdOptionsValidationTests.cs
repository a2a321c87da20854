using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using PdApp.Hosting;
using PdApp.Hosting.KvConnectors;
using PdApp.Hosting.Topology;
using PdApp.Protocol;

namespace PdApp.Tests.Hosting;

/// <summary>The <c>Pd</c> section: defaults, recipes, and one test per validation rule (each message names its setting).</summary>
public sealed class PdOptionsValidationTests
{
    private static PdOptions Load(params (string Key, string Value)[] settings) =>
        PdOptionsLoader.Load(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build());

    private static string Failure(params (string Key, string Value)[] settings) =>
        Assert.Throws<OptionsValidationException>(() => Load(settings)).Message;

    [Fact]
    public void Defaults_ReproduceTheGuidesSharedStorageRecipeOnOneHost()
    {
        var options = Load();
        var layout = PdLayout.Create(options);

        Assert.Equal(PdBackend.Auto, options.Backend);
        Assert.Equal(KvConnectorNames.SharedStorage, options.Connector);
        Assert.Equal("/data/dp7b/", options.Model);
        Assert.Equal("/data/models/pd_local_storage", options.SharedStorage.Path);
        Assert.Equal(4096, options.MaxModelLen);
        Assert.Equal(0.8, options.GpuMemoryUtilization);
        Assert.Equal(8000, options.ProxyPort);
        Assert.Equal("docker.io/vllm/vllm-openai:v0.11.2", PdImages.For(options));
        Assert.Collection(
            layout,
            p => Assert.Equal(("prefill-0", PdRole.Prefill, 8100, 0), (p.Name, p.Role, p.Port, p.GpuIds.Single())),
            d => Assert.Equal(("decode-0", PdRole.Decode, 8200, 1), (d.Name, d.Role, d.Port, d.GpuIds.Single())));
    }

    [Fact]
    public void RecipeGuidePyNccl_SwitchesToTheGuidesPyNcclSetup()
    {
        var options = Load(("Pd:Recipe", "guide-pynccl"));

        Assert.Equal(KvConnectorNames.PyNccl, options.Connector);
        Assert.Equal("registry.cn-hangzhou.aliyuncs.com/lky-deploy/llm:vllm-server-0.7.2", PdImages.For(options));
        Assert.Equal(65535, options.MaxModelLen);
        Assert.Equal(0.9, options.GpuMemoryUtilization);
        Assert.True(options.Privileged);
        Assert.True(options.HostNetwork);
        Assert.Equal("SYS_PTRACE", options.Capabilities);
        Assert.Equal("eth0", options.NetworkInterface);
    }

    [Fact]
    public void Recipe_ExplicitKeysStillOverrideIt()
    {
        var options = Load(("Pd:Recipe", "guide-pynccl"), ("Pd:MaxModelLen", "8192"), ("Pd:NetworkInterface", "ib0"));

        Assert.Equal(8192, options.MaxModelLen);
        Assert.Equal("ib0", options.NetworkInterface);
        Assert.Equal(0.9, options.GpuMemoryUtilization);
    }

    /// <summary>One case per validation rule: the settings that break it and what the message must say.</summary>
    public static TheoryData<string, string[], string[]> InvalidSettings => new()
    {
        { "unknown recipe", ["Pd:Recipe=fastest"], ["Pd:Recipe"] },
        { "unknown backend", ["Pd:Backend=kubernetes"], ["Pd:Backend"] },
        { "unknown connector", ["Pd:Connector=MooncakeConnectorV9"], ["Pd:Connector"] },
        { "PyNccl ranks unique", ["Pd:Connector=PyNcclConnector", "Pd:Decode:Instances:0:KvRank=0"], ["Pd:Decode:Instances:0:KvRank", "unique"] },
        { "PyNccl ranks below kv_parallel_size", ["Pd:Connector=PyNcclConnector", "Pd:Decode:Instances:0:KvRank=2"], ["Pd:Decode:Instances:0:KvRank 2", "Pd:PyNccl:KvParallelSize"] },
        { "PyNccl kv_parallel_size = NCCL members", ["Pd:Connector=PyNcclConnector", "Pd:PyNccl:KvParallelSize=3"], ["Pd:PyNccl:KvParallelSize is 3", "2 NCCL members"] },
        { "at least one producer", ["Pd:Prefill:Count=0"], ["Pd:Prefill:Count"] },
        { "at least one consumer", ["Pd:Decode:Count=0"], ["Pd:Decode:Count"] },
        { "external backend needs a decode URL", ["Pd:Backend=external", "Pd:External:Prefill:0=http://10.0.0.5:8100"], ["Pd:External:Decode"] },
        { "external URLs absolute http", ["Pd:Backend=external", "Pd:External:Prefill:0=10.0.0.5:8100", "Pd:External:Decode:0=http://10.0.0.6:8200"], ["Pd:External:Prefill:0"] },
        { "shared storage inside the data volume", ["Pd:SharedStorage:Path=/tmp/pd_local_storage"], ["Pd:SharedStorage:Path"] },
        { "shared storage without ..", ["Pd:SharedStorage:Path=/data/../etc"], ["Pd:SharedStorage:Path"] },
        {
            "shared storage of a MultiConnector child",
            ["Pd:Connector=MultiConnector", "Pd:Multi:Connectors:0=NixlConnector", "Pd:Multi:Connectors:1=SharedStorageConnector", "Pd:SharedStorage:Path=relative/path"],
            ["Pd:SharedStorage:Path"]
        },
        { "GPU given twice", ["Pd:Decode:Instances:0:GpuIds=0"], ["Pd:Decode:Instances:0:GpuIds gives GPU 0 to decode-0", "Pd:Prefill:Instances:0:GpuIds"] },
        { "GPUs = TP x PP", ["Pd:TensorParallelSize=2", "Pd:Prefill:Instances:0:GpuIds=0"], ["Pd:Prefill:Instances:0:GpuIds gives prefill-0 1 GPU(s)"] },
        { "GPU ids a number list", ["Pd:Prefill:Instances:0:GpuIds=first"], ["Pd:Prefill:Instances:0:GpuIds"] },
        { "HTTP ports distinct", ["Pd:Decode:Instances:0:Port=8100"], ["Pd:Decode:Instances:0:Port 8100 of decode-0", "Pd:Prefill:BasePort"] },
        { "HTTP port not the proxy's", ["Pd:ProxyPort=8200"], ["Pd:Decode:BasePort 8200 of decode-0", "Pd:ProxyPort"] },
        { "P2pNccl KV ports distinct", ["Pd:Connector=P2pNcclConnector", "Pd:Decode:Instances:0:KvPort=21001"], ["Pd:Decode:Instances:0:KvPort 21001", "Pd:P2pNccl:PrefillKvBasePort"] },
        { "P2pNccl KV port per TP rank", ["Pd:Connector=P2pNcclConnector", "Pd:TensorParallelSize=2", "Pd:Decode:Instances:0:KvPort=21002"], ["TP rank 1"] },
        { "registry port not an instance's", ["Pd:Connector=P2pNcclConnector", "Pd:RegistryPort=8100"], ["Pd:Prefill:BasePort 8100 of prefill-0 (HTTP) clashes with Pd:RegistryPort"] },
        { "NIXL side-channel ports distinct", ["Pd:Connector=NixlConnector", "Pd:Decode:Instances:0:SideChannelPort=5600"], ["Pd:Decode:Instances:0:SideChannelPort 5600", "Pd:Nixl:SideChannelBasePort"] },
        { "LMCache receiver port distinct", ["Pd:Connector=LMCacheConnectorV1", "Pd:LMCache:InitBasePort=8000"], ["Pd:LMCache:InitBasePort 8000", "Pd:ProxyPort"] },
        { "LMCache notification port distinct", ["Pd:Connector=LMCacheConnectorV1", "Pd:LMCache:NotificationPort=7300"], ["Pd:LMCache:NotificationPort 7300", "Pd:LMCache:InitBasePort"] },
        { "LMCache buffer", ["Pd:Connector=LMCacheConnectorV1", "Pd:LMCache:BufferSizeBytes=0"], ["Pd:LMCache:BufferSizeBytes"] },
        { "PyNccl rendezvous port distinct", ["Pd:Recipe=guide-pynccl", "Pd:PyNccl:KvPort=8100"], ["Pd:PyNccl:KvPort 8100"] },
        { "MultiConnector needs children", ["Pd:Connector=MultiConnector"], ["Pd:Multi:Connectors"] },
        { "MultiConnector children are v1", ["Pd:Connector=MultiConnector", "Pd:Multi:Connectors:0=PyNcclConnector"], ["Pd:Multi:Connectors:0"] },
        { "MultiConnector children listed once", ["Pd:Connector=MultiConnector", "Pd:Multi:Connectors:0=NixlConnector", "Pd:Multi:Connectors:1=NixlConnector"], ["Pd:Multi:Connectors:1"] },
        { "instances list no longer than count", ["Pd:Prefill:Instances:0:Port=8100", "Pd:Prefill:Instances:1:Port=8101"], ["Pd:Prefill:Instances has 2 entries but Pd:Prefill:Count is 1"] },
        { "max model len", ["Pd:MaxModelLen=0"], ["Pd:MaxModelLen"] },
        { "GPU memory utilization", ["Pd:GpuMemoryUtilization=1.5"], ["Pd:GpuMemoryUtilization"] },
        { "tensor parallel size", ["Pd:TensorParallelSize=0"], ["Pd:TensorParallelSize"] },
        { "pipeline parallel size", ["Pd:PipelineParallelSize=0"], ["Pd:PipelineParallelSize"] },
        { "image with a tag", ["Pd:Image=vllm/vllm-openai"], ["Pd:Image"] },
        { "model not blank", ["Pd:Model= "], ["Pd:Model"] },
        { "port in range", ["Pd:Prefill:BasePort=70000"], ["Pd:Prefill:BasePort"] },
    };

    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public void InvalidSetting_IsRejectedNamingIt(string rule, string[] settings, string[] expected)
    {
        var message = Failure(settings.Select(Split).ToArray());

        Assert.All(expected, fragment => Assert.True(message.Contains(fragment, StringComparison.Ordinal), $"{rule}: '{fragment}' not in: {message}"));

        static (string Key, string Value) Split(string setting)
        {
            var equals = setting.IndexOf('=', StringComparison.Ordinal);
            return (setting[..equals], setting[(equals + 1)..]);
        }
    }

    [Fact]
    public void XpYd_HandsOutGpusAndPortsInOrder()
    {
        var options = Load(("Pd:Prefill:Count", "2"), ("Pd:Decode:Count", "2"), ("Pd:TensorParallelSize", "2"));

        var layout = PdLayout.Create(options);

        Assert.Equal(["prefill-0", "prefill-1", "decode-0", "decode-1"], layout.Select(i => i.Name));
        Assert.Equal([8100, 8101, 8200, 8201], layout.Select(i => i.Port));
        Assert.Equal(["0,1", "2,3", "4,5", "6,7"], layout.Select(i => string.Join(',', i.GpuIds)));
    }

    [Fact]
    public void P2pNcclSendType_BindsFromItsName()
    {
        var options = Load(("Pd:Connector", "P2pNcclConnector"), ("Pd:P2pNccl:SendType", "Get"));

        Assert.Equal(P2pNcclSendType.Get, options.P2pNccl.SendType);
    }

    [Fact]
    public void ImageOverride_ReplacesTheConnectorsDefault()
    {
        var options = Load(("Pd:Image", "registry.example.com/team/vllm:0.11.2-patched"), ("Pd:Entrypoint", "OpenAiApiServer"));

        Assert.True(ImageReference.TryParse(PdImages.For(options), out var image));
        Assert.Equal(new ImageReference("registry.example.com", "team/vllm", "0.11.2-patched"), image);
        Assert.Equal(VllmEntrypoint.OpenAiApiServer, options.Entrypoint);
    }
}
