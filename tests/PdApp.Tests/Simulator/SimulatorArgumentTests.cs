using System.Net;
using Microsoft.Extensions.Configuration;
using PdApp.Protocol;
using PdApp.Simulator;
using PdApp.Simulator.Configuration;

namespace PdApp.Tests.Simulator;

public sealed class SimulatorArgumentTests
{
    [Fact]
    public void VllmCommandLine_HonouredFlagsAreRead()
    {
        var log = new List<string>();
        var options = SimulatorOptionsParser.Parse(
            [
                "serve", "/models/llama", "--port=9001", "--host", "127.0.0.1", "--served-model-name", "llama", "llama-alias",
                "--max_model_len", "8192", "--api-key", "k", "--enable-request-id-headers", "--block-size", "32",
                "--kv-transfer-config", """{"kv_connector":"NixlConnector","kv_role":"kv_both"}""",
                "--time-to-first-token", "12.5", "--inter-token-latency", "7", "--max-num-seqs", "64", "--kv-cache-size", "500",
                "--failure-types", "rate_limit", "server_error",
            ],
            log);

        Assert.Equal("/models/llama", options.Model);
        Assert.Equal(9001, options.Port);
        Assert.Equal("127.0.0.1", options.Host);
        Assert.Equal(["llama", "llama-alias"], options.ServedModelNames);
        Assert.Equal("llama", options.PrimaryModelName);
        Assert.Equal(8192, options.MaxModelLen);
        Assert.Equal("k", options.ApiKey);
        Assert.True(options.EnableRequestIdHeaders);
        Assert.Equal(32, options.BlockSize);
        Assert.Equal(KvConnectorNames.Nixl, options.KvTransfer?.KvConnector);
        Assert.Equal(12.5, options.Timing.TimeToFirstTokenMs);
        Assert.Equal(7, options.Timing.InterTokenLatencyMs);
        Assert.Equal(64, options.Timing.MaxNumSeqs);
        Assert.Equal(500, options.Timing.KvCacheSizeBlocks);
        Assert.Equal(["rate_limit", "server_error"], options.Faults.FailureTypes);
        Assert.Empty(log);
    }

    [Fact]
    public void GpuAndUnknownFlags_AreAcceptedAndLoggedOnce()
    {
        var log = new List<string>();
        var options = SimulatorOptionsParser.Parse(
            [
                "--model", "m", "--gpu-memory-utilization", "0.9", "--tensor-parallel-size", "2", "-tp", "2", "--trust-remote-code",
                "--enforce-eager", "--kv-buffer-size", "1e9", "--frobnicate", "yes", "--new-flag=3", "--bare-unknown", "--port", "8100",
            ],
            log);

        Assert.Equal("m", options.Model);
        Assert.Equal(8100, options.Port);
        Assert.Equal(9, log.Count);
        Assert.Contains(log, line => line.Contains("--gpu-memory-utilization 0.9", StringComparison.Ordinal));
        Assert.Contains(log, line => line.Contains("unknown flag --frobnicate yes", StringComparison.Ordinal));
        Assert.Contains(log, line => line.Contains("unknown flag --new-flag 3", StringComparison.Ordinal));
    }

    [Fact]
    public void SwitchBeforeModel_LeavesTheModelPositional()
    {
        var options = SimulatorOptionsParser.Parse(["serve", "--trust-remote-code", "/data/m", "--port", "1234"], new List<string>());

        Assert.Equal("/data/m", options.Model);
        Assert.Equal(1234, options.Port);
    }

    [Theory]
    [InlineData("--port", "abc")]
    [InlineData("--port", "70000")]
    [InlineData("--max-model-len", "0")]
    [InlineData("--time-to-first-token", "fast")]
    [InlineData("--failure-injection-rate", "150")]
    [InlineData("--failure-types", "meteor_strike")]
    [InlineData("--kv-transfer-config", "{not json")]
    [InlineData("--kv-transfer-config", """{"kv_connector":"NixlConnector","kv_role":"kv_sideways"}""")]
    [InlineData("--kv-transfer-config", """{"kv_connector":"NixlConnector"}""")]
    [InlineData("--kv-transfer-config", """{"kv_connector":"MooncakeConnector","kv_role":"kv_both"}""")]
    public void InvalidValue_FailsNamingTheFlag(string flag, string value)
    {
        var ex = Assert.Throws<SimulatorArgumentException>(() => SimulatorApp.Create(["serve", "m", flag, value]));

        Assert.Equal(flag, ex.Flag);
        Assert.Contains(flag, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingModel_Fails()
    {
        Assert.Throws<SimulatorArgumentException>(() => SimulatorApp.Create(["serve", "--port", "0"]));
    }

    [Fact]
    public void BadConnectorExtraConfig_FailsAtCreate()
    {
        var ex = Assert.Throws<SimulatorArgumentException>(() => SimulatorApp.Create(
            ["serve", "m", "--port", "0", "--kv-transfer-config", """{"kv_connector":"P2pNcclConnector","kv_role":"kv_producer","kv_connector_extra_config":{"send_type":"SHOUT"}}"""]));

        Assert.Contains("send_type", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PortFlag_OverridesAspNetCoreUrls()
    {
        var taken = RunningSimulator.FreePort();
        await using var app = SimulatorApp.Create(
            ["serve", "m", "--host", "127.0.0.1", "--port", "0"],
            builder => builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["urls"] = $"http://127.0.0.1:{taken}" }));
        await app.StartAsync();

        var address = SimulatorApp.GetBaseAddress(app);
        using var client = new HttpClient { BaseAddress = address };
        using var health = await client.GetAsync("/health");

        Assert.NotEqual(taken, address.Port);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        await app.StopAsync();
    }

    [Fact]
    public async Task InstanceName_DefaultsToOtelServiceName_ThenHostAndPort()
    {
        await using var named = await RunningSimulator.StartAsync([], new Dictionary<string, string?> { ["OTEL_SERVICE_NAME"] = "decode-3" });
        await using var unnamed = await RunningSimulator.StartAsync([]);

        using var namedHealth = await named.Client.GetAsync("/health");
        using var unnamedHealth = await unnamed.Client.GetAsync("/health");

        Assert.Equal("decode-3", namedHealth.Header(PdHeaders.SimulatorInstance));
        Assert.Equal($"127.0.0.1:{unnamed.BaseAddress.Port}", unnamedHealth.Header(PdHeaders.SimulatorInstance));
    }
}
