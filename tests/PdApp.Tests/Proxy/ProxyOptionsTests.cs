using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Proxy;

namespace PdApp.Tests.Proxy;

/// <summary>Start-up validation refuses bad settings with a message naming the setting.</summary>
public sealed class ProxyOptionsTests
{
    private static async Task<string> StartFailureAsync(params string[] settings)
    {
        string[] args =
        [
            "--urls=http://127.0.0.1:0",
            "--Logging:LogLevel:Default=None",
            $"--{PdProxySettings.Instances}:0:Name=p", $"--{PdProxySettings.Instances}:0:Role=Prefill", $"--{PdProxySettings.Instances}:0:Address=http://127.0.0.1:1",
            $"--{PdProxySettings.Instances}:1:Name=d", $"--{PdProxySettings.Instances}:1:Role=Decode", $"--{PdProxySettings.Instances}:1:Address=http://127.0.0.1:2",
            .. settings.Select(s => "--" + s),
        ];
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var app = ProxyApp.Create(args);
            await app.StartAsync();
        });
        return error.Message;
    }

    [Fact]
    public async Task MissingConnector_FailsNamingPdConnector() =>
        Assert.Contains(PdProxySettings.Connector, await StartFailureAsync());

    [Fact]
    public async Task UnknownConnector_FailsNamingPdConnector() =>
        Assert.Contains("'FooConnector' is not supported", await StartFailureAsync($"{PdProxySettings.Connector}=FooConnector"));

    [Fact]
    public async Task MultiConnectorWithoutChildren_FailsNamingChildConnectors() =>
        Assert.Contains(PdProxySettings.ChildConnectors, await StartFailureAsync($"{PdProxySettings.Connector}={KvConnectorNames.Multi}"));

    [Theory]
    [InlineData("Pd:Proxy:Timeouts:PrefillSeconds=0", "Pd:Proxy:Timeouts:PrefillSeconds")]
    [InlineData("Pd:Proxy:Timeouts:DecodeIdleSeconds=-1", "Pd:Proxy:Timeouts:DecodeIdleSeconds")]
    [InlineData("Pd:Proxy:Timeouts:ConnectSeconds=0", "Pd:Proxy:Timeouts:ConnectSeconds")]
    [InlineData("Pd:Proxy:Timeouts:PrefillFirstByteSeconds=-1", "Pd:Proxy:Timeouts:PrefillFirstByteSeconds")]
    [InlineData("Pd:Proxy:Timeouts:PrefillFirstByteSeconds=400", "Pd:Proxy:Timeouts:PrefillFirstByteSeconds")]
    [InlineData("Pd:Proxy:Admission:MaxConcurrentRequests=0", "Pd:Proxy:Admission:MaxConcurrentRequests")]
    [InlineData("Pd:Proxy:Admission:MaxQueueLength=-1", "Pd:Proxy:Admission:MaxQueueLength")]
    [InlineData("Pd:Proxy:MaxRequestBodyBytes=0", "Pd:Proxy:MaxRequestBodyBytes")]
    [InlineData("Pd:Proxy:Admission:RateLimitMode=sometimes", "Pd:Proxy:Admission:RateLimitMode")]
    [InlineData("Pd:Proxy:Admission:RateLimitMaxWaitSeconds=0", "Pd:Proxy:Admission:RateLimitMaxWaitSeconds")]
    [InlineData("Pd:Proxy:Migration:MaxAttempts=-1", "Pd:Proxy:Migration:MaxAttempts")]
    [InlineData("Pd:Proxy:Migration:MaxNonStreamingTokens=-1", "Pd:Proxy:Migration:MaxNonStreamingTokens")]
    [InlineData("Pd:Proxy:Migration:DecodeAloneBelowTokens=-1", "Pd:Proxy:Migration:DecodeAloneBelowTokens")]
    [InlineData("Pd:Proxy:Memory:IdleSeconds=0", "Pd:Proxy:Memory:IdleSeconds")]
    [InlineData("Pd:Proxy:Memory:MinIntervalSeconds=-1", "Pd:Proxy:Memory:MinIntervalSeconds")]
    public async Task OutOfRangeSetting_FailsNamingIt(string setting, string key) =>
        Assert.Contains(key, await StartFailureAsync($"{PdProxySettings.Connector}={KvConnectorNames.Nixl}", setting));

    [Theory]
    [InlineData(KvConnectorNames.P2pNccl, "Pd:Proxy:DecodeOnlyFallback=true", "Pd:Proxy:DecodeOnlyFallback")]
    [InlineData(KvConnectorNames.PyNccl, "Pd:Proxy:Disaggregation:SkipPrefillBelowTokens=100", "Pd:Proxy:Disaggregation:SkipPrefillBelowTokens")]
    [InlineData(KvConnectorNames.PyNccl, "Pd:Proxy:Migration:DecodeAloneBelowTokens=100", "Pd:Proxy:Migration:DecodeAloneBelowTokens")]
    public async Task DecodeAloneWithPeerBoundConnector_FailsNamingTheSetting(string connector, string setting, string key) =>
        Assert.Contains(key, await StartFailureAsync($"{PdProxySettings.Connector}={connector}", "Pd:Registry:Port=0", setting));
}
