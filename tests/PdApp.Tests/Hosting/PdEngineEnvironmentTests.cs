using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using PdApp.Hosting;
using PdApp.Hosting.Deployment.Compose;
using PdApp.Hosting.Topology;
using PdApp.Tests.Deployment;

namespace PdApp.Tests.Hosting;

/// <summary><c>Pd:Environment</c>: free-form engine variables for all engines, per role and per instance.</summary>
public sealed class PdEngineEnvironmentTests
{
    private static PdOptions Load(params (string Key, string Value)[] settings) =>
        PdOptionsLoader.Load(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build());

    private static readonly (string Key, string Value)[] Scoped =
    [
        ("Pd:Decode:Count", "2"),
        ("Pd:Environment:VLLM_USE_MODELSCOPE", "True"),
        ("Pd:Environment:NCCL_DEBUG", "WARN"),
        ("Pd:Decode:Environment:NCCL_DEBUG", "INFO"),
        ("Pd:Decode:Instances:1:Environment:NCCL_DEBUG", "TRACE"),
    ];

    [Theory]
    [InlineData(PdBackend.Vllm)]
    [InlineData(PdBackend.Simulator)]
    public async Task Variables_ReachEveryEngine_NarrowestScopeWinning(PdBackend backend)
    {
        var builder = AppModel.CreateBuilder();
        builder.AddPdInstances<Projects.PdApp_Simulator>(Load(Scoped), new PdBackendDecision(backend, "chosen by the test"));

        var environments = new Dictionary<string, IReadOnlyDictionary<string, string>>();
        foreach (var name in new[] { "prefill-0", "decode-0", "decode-1" })
        {
            environments[name] = (await AppModel.EvaluateAsync(builder.Resources.Single(r => r.Name == name))).Env;
        }

        Assert.All(environments.Values, env => Assert.Equal("True", env["VLLM_USE_MODELSCOPE"]));
        Assert.Equal("WARN", environments["prefill-0"]["NCCL_DEBUG"]);
        Assert.Equal("INFO", environments["decode-0"]["NCCL_DEBUG"]);
        Assert.Equal("TRACE", environments["decode-1"]["NCCL_DEBUG"]);
    }

    [Fact]
    public void Layout_RemembersTheSettingEachVariableCameFrom()
    {
        var layout = PdLayout.Create(Load(Scoped));

        Assert.Equal("Pd:Environment:NCCL_DEBUG", layout[0].Environment["NCCL_DEBUG"].Setting);
        Assert.Equal("Pd:Decode:Environment:NCCL_DEBUG", layout[1].Environment["NCCL_DEBUG"].Setting);
        Assert.Equal("Pd:Decode:Instances:1:Environment:NCCL_DEBUG", layout[2].Environment["NCCL_DEBUG"].Setting);
    }

    [Fact]
    public void SparseInstanceOverride_AppliesToTheInstanceItNames()
    {
        var layout = PdLayout.Create(Load(("Pd:Decode:Count", "2"), ("Pd:Decode:Instances:1:Port", "8299")));

        Assert.Equal(8200, layout[1].Port);
        Assert.Equal(8299, layout[2].Port);
    }

    [Fact]
    public void InstanceKeyThatIsNotAnIndex_IsRefused_NamingIt()
    {
        var failure = Assert.Throws<OptionsValidationException>(() => Load(("Pd:Decode:Instances:first:Port", "8299"))).Message;

        Assert.Contains("Pd:Decode:Instances:first is not an instance index", failure);
    }

    [Theory]
    [InlineData("Pd:Environment:CUDA_VISIBLE_DEVICES", "3", "GpuIds")]
    [InlineData("Pd:Prefill:Environment:HF_TOKEN", "hf_x", "Pd:UseHuggingFaceToken")]
    [InlineData("Pd:Environment:VLLM_API_KEY", "k", "Pd:UseApiKey")]
    [InlineData("Pd:Environment:NCCL_SOCKET_IFNAME", "eth1", "Pd:NetworkInterface")]
    public void VariablesOwnedByASetting_AreRefused_NamingIt(string key, string value, string setting)
    {
        var failure = Assert.Throws<OptionsValidationException>(() => Load((key, value))).Message;

        Assert.Contains(key, failure);
        Assert.Contains(setting, failure);
    }

    [Fact]
    public void ConnectorVariables_AreRefused_NamingTheConnector()
    {
        var failure = Assert.Throws<OptionsValidationException>(
            () => Load(("Pd:Connector", "NixlConnector"), ("Pd:Decode:Instances:0:Environment:VLLM_NIXL_SIDE_CHANNEL_PORT", "7000"))).Message;

        Assert.Contains("Pd:Decode:Instances:0:Environment:VLLM_NIXL_SIDE_CHANNEL_PORT", failure);
        Assert.Contains("NixlConnector of decode-0", failure);
    }

    [Fact]
    public void InvalidNames_AndExternalEngines_AreRefused()
    {
        Assert.Contains("not a valid environment variable name", Assert.Throws<OptionsValidationException>(() => Load(("Pd:Environment:1BAD", "x"))).Message);
        var external = Assert.Throws<OptionsValidationException>(() => Load(
            ("Pd:Backend", "external"),
            ("Pd:External:Prefill:0", "http://10.0.0.1:8100"),
            ("Pd:External:Decode:0", "http://10.0.0.2:8200"),
            ("Pd:Environment:NCCL_DEBUG", "INFO"))).Message;
        Assert.Contains("Pd:Environment:NCCL_DEBUG has no effect with Pd:Backend external", external);
    }

    [Fact]
    public async Task ComposeOutput_CarriesTheVariables()
    {
        using var published = await DeploymentPublishing.PublishAsync(
            ComposeWriter.PublisherName, "--Pd:Environment:VLLM_USE_MODELSCOPE=True", "--Pd:Decode:Environment:NCCL_DEBUG=INFO");
        var compose = ComposeDocument.Parse(published.Read(ComposeWriter.ComposeFileName));

        Assert.Equal("True", compose.Service("prefill-0").Map("environment")["VLLM_USE_MODELSCOPE"]);
        Assert.Equal("INFO", compose.Service("decode-0").Map("environment")["NCCL_DEBUG"]);
        Assert.False(compose.Service("prefill-0").Map("environment").ContainsKey("NCCL_DEBUG"));
    }
}
