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

    [Fact]
    public void UnknownRecipe_NamesPdRecipe()
    {
        Assert.Contains("Pd:Recipe", Failure(("Pd:Recipe", "fastest")));
    }

    [Fact]
    public void UnknownBackend_NamesPdBackend()
    {
        Assert.Contains("Pd:Backend", Failure(("Pd:Backend", "kubernetes")));
    }

    [Fact]
    public void UnknownConnector_NamesPdConnector()
    {
        Assert.Contains("Pd:Connector", Failure(("Pd:Connector", "MooncakeConnectorV9")));
    }

    [Fact]
    public void PyNcclRanks_MustBeUnique()
    {
        var message = Failure(("Pd:Connector", "PyNcclConnector"), ("Pd:Decode:Instances:0:KvRank", "0"));

        Assert.Contains("Pd:Decode:Instances:0:KvRank", message);
        Assert.Contains("unique", message);
    }

    [Fact]
    public void PyNcclRanks_MustBeBelowKvParallelSize()
    {
        var message = Failure(("Pd:Connector", "PyNcclConnector"), ("Pd:Decode:Instances:0:KvRank", "2"));

        Assert.Contains("Pd:Decode:Instances:0:KvRank 2", message);
        Assert.Contains("Pd:PyNccl:KvParallelSize", message);
    }

    [Fact]
    public void PyNcclKvParallelSize_MustEqualTheNumberOfNcclMembers()
    {
        var message = Failure(("Pd:Connector", "PyNcclConnector"), ("Pd:PyNccl:KvParallelSize", "3"));

        Assert.Contains("Pd:PyNccl:KvParallelSize is 3", message);
        Assert.Contains("2 NCCL members", message);
    }

    [Fact]
    public void ProducerCount_MustBeAtLeastOne()
    {
        Assert.Contains("Pd:Prefill:Count", Failure(("Pd:Prefill:Count", "0")));
    }

    [Fact]
    public void ConsumerCount_MustBeAtLeastOne()
    {
        Assert.Contains("Pd:Decode:Count", Failure(("Pd:Decode:Count", "0")));
    }

    [Fact]
    public void ExternalBackend_NeedsAtLeastOneDecodeUrl()
    {
        var message = Failure(("Pd:Backend", "external"), ("Pd:External:Prefill:0", "http://10.0.0.5:8100"));

        Assert.Contains("Pd:External:Decode", message);
    }

    [Fact]
    public void SharedStoragePath_MustLieInsideTheDataVolume()
    {
        Assert.Contains("Pd:SharedStorage:Path", Failure(("Pd:SharedStorage:Path", "/tmp/pd_local_storage")));
        Assert.Contains("Pd:SharedStorage:Path", Failure(("Pd:SharedStorage:Path", "/data/../etc")));
    }

    [Fact]
    public void SharedStoragePath_IsCheckedForAMultiConnectorChildToo()
    {
        var message = Failure(
            ("Pd:Connector", "MultiConnector"),
            ("Pd:Multi:Connectors:0", "NixlConnector"),
            ("Pd:Multi:Connectors:1", "SharedStorageConnector"),
            ("Pd:SharedStorage:Path", "relative/path"));

        Assert.Contains("Pd:SharedStorage:Path", message);
    }

    [Fact]
    public void GpuIds_MustNotBeGivenToTwoInstances()
    {
        var message = Failure(("Pd:Decode:Instances:0:GpuIds", "0"));

        Assert.Contains("Pd:Decode:Instances:0:GpuIds gives GPU 0 to decode-0", message);
        Assert.Contains("Pd:Prefill:Instances:0:GpuIds", message);
    }

    [Fact]
    public void GpuIds_MustMatchTensorTimesPipelineParallelSize()
    {
        var message = Failure(("Pd:TensorParallelSize", "2"), ("Pd:Prefill:Instances:0:GpuIds", "0"));

        Assert.Contains("Pd:Prefill:Instances:0:GpuIds gives prefill-0 1 GPU(s)", message);
    }

    [Fact]
    public void GpuIds_MustBeANumberList()
    {
        Assert.Contains("Pd:Prefill:Instances:0:GpuIds", Failure(("Pd:Prefill:Instances:0:GpuIds", "first")));
    }

    [Fact]
    public void HttpPorts_MustNotClash()
    {
        var message = Failure(("Pd:Decode:Instances:0:Port", "8100"));

        Assert.Contains("Pd:Decode:Instances:0:Port 8100 of decode-0", message);
        Assert.Contains("Pd:Prefill:BasePort", message);
    }

    [Fact]
    public void HttpPort_MustNotClashWithTheProxyPort()
    {
        var message = Failure(("Pd:ProxyPort", "8200"));

        Assert.Contains("Pd:Decode:BasePort 8200 of decode-0", message);
        Assert.Contains("Pd:ProxyPort", message);
    }

    [Fact]
    public void P2pNcclKvPorts_MustNotClash()
    {
        var message = Failure(("Pd:Connector", "P2pNcclConnector"), ("Pd:Decode:Instances:0:KvPort", "21001"));

        Assert.Contains("Pd:Decode:Instances:0:KvPort 21001", message);
        Assert.Contains("Pd:P2pNccl:PrefillKvBasePort", message);
    }

    [Fact]
    public void P2pNcclKvPorts_ReserveOnePortPerTensorParallelRank()
    {
        var message = Failure(
            ("Pd:Connector", "P2pNcclConnector"),
            ("Pd:TensorParallelSize", "2"),
            ("Pd:Decode:Instances:0:KvPort", "21002"));

        Assert.Contains("TP rank 1", message);
    }

    [Fact]
    public void RegistryPort_MustNotClashWithAnInstancePort()
    {
        var message = Failure(("Pd:Connector", "P2pNcclConnector"), ("Pd:RegistryPort", "8100"));

        Assert.Contains("Pd:Prefill:BasePort 8100 of prefill-0 (HTTP) clashes with Pd:RegistryPort", message);
    }

    [Fact]
    public void NixlSideChannelPorts_MustNotClash()
    {
        var message = Failure(("Pd:Connector", "NixlConnector"), ("Pd:Decode:Instances:0:SideChannelPort", "5600"));

        Assert.Contains("Pd:Decode:Instances:0:SideChannelPort 5600", message);
        Assert.Contains("Pd:Nixl:SideChannelBasePort", message);
    }

    [Fact]
    public void LMCacheReceiverPort_MustNotClash()
    {
        var message = Failure(("Pd:Connector", "LMCacheConnectorV1"), ("Pd:LMCache:ReceiverBasePort", "8000"));

        Assert.Contains("Pd:LMCache:ReceiverBasePort 8000", message);
        Assert.Contains("Pd:ProxyPort", message);
    }

    [Fact]
    public void PyNcclRendezvousPort_MustNotClash()
    {
        var message = Failure(("Pd:Recipe", "guide-pynccl"), ("Pd:PyNccl:KvPort", "8100"));

        Assert.Contains("Pd:PyNccl:KvPort 8100", message);
    }

    [Fact]
    public void MultiConnector_NeedsV1ChildrenListedOnce()
    {
        Assert.Contains("Pd:Multi:Connectors", Failure(("Pd:Connector", "MultiConnector")));
        Assert.Contains("Pd:Multi:Connectors:0", Failure(("Pd:Connector", "MultiConnector"), ("Pd:Multi:Connectors:0", "PyNcclConnector")));
        Assert.Contains(
            "Pd:Multi:Connectors:1",
            Failure(("Pd:Connector", "MultiConnector"), ("Pd:Multi:Connectors:0", "NixlConnector"), ("Pd:Multi:Connectors:1", "NixlConnector")));
    }

    [Theory]
    [InlineData("Pd:MaxModelLen", "0")]
    [InlineData("Pd:GpuMemoryUtilization", "1.5")]
    [InlineData("Pd:TensorParallelSize", "0")]
    [InlineData("Pd:PipelineParallelSize", "0")]
    [InlineData("Pd:Image", "vllm/vllm-openai")]
    [InlineData("Pd:Model", " ")]
    [InlineData("Pd:Prefill:BasePort", "70000")]
    public void OutOfRangeSetting_IsNamed(string key, string value)
    {
        Assert.Contains(key, Failure((key, value)));
    }

    [Fact]
    public void ExternalUrls_MustBeAbsoluteHttp()
    {
        var message = Failure(("Pd:Backend", "external"), ("Pd:External:Prefill:0", "10.0.0.5:8100"), ("Pd:External:Decode:0", "http://10.0.0.6:8200"));

        Assert.Contains("Pd:External:Prefill:0", message);
    }

    [Fact]
    public void InstancesList_LongerThanCount_IsRejected()
    {
        var message = Failure(("Pd:Prefill:Instances:0:Port", "8100"), ("Pd:Prefill:Instances:1:Port", "8101"));

        Assert.Contains("Pd:Prefill:Instances has 2 entries but Pd:Prefill:Count is 1", message);
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
