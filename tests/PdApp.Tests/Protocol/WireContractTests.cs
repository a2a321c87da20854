using PdApp.Hosting;
using PdApp.Protocol;
using PdApp.Protocol.Connectors;
using PdApp.Protocol.P2pNccl;
using PdApp.Protocol.Vllm;
using PdApp.Proxy.Routing.P2pNccl;
using PdApp.Simulator.Configuration;

namespace PdApp.Tests.Protocol;

/// <summary>The wire contracts PdApp.Protocol owns, written by one side and read by the other.</summary>
public sealed class WireContractTests
{
    [Theory]
    [InlineData(VllmEntrypoint.VllmServe)]
    [InlineData(VllmEntrypoint.OpenAiApiServer)]
    public void EngineArguments_WhatTheAppHostRendersTheSimulatorReads(VllmEntrypoint entrypoint)
    {
        var kv = new KvTransferConfig { KvConnector = KvConnectorNames.SharedStorage, KvRole = KvRoles.Producer };
        var rendered = new VllmServeArguments
        {
            Model = "/data/dp7b/",
            ServedModelName = "dp7b",
            Host = "127.0.0.1",
            Port = 8100,
            MaxModelLen = 2048,
            GpuMemoryUtilization = 0.9,
            TensorParallelSize = 2,
            PipelineParallelSize = 1,
            TrustRemoteCode = true,
            KvTransferConfigJson = kv.ToJson(),
        }.Render(entrypoint, includeLauncher: entrypoint == VllmEntrypoint.VllmServe);
        var ignored = new List<string>();

        var options = SimulatorOptionsParser.Parse([.. rendered.Cast<string>()], ignored);

        Assert.Equal("/data/dp7b/", options.Model);
        Assert.Equal(["dp7b"], options.ServedModelNames);
        Assert.Equal("127.0.0.1", options.Host);
        Assert.Equal(8100, options.Port);
        Assert.Equal(2048, options.MaxModelLen);
        Assert.Equal(kv, options.KvTransfer);
        Assert.DoesNotContain(ignored, line => line.Contains("unknown", StringComparison.Ordinal));
        Assert.Equal(4, ignored.Count);
    }

    [Fact]
    public void KvEventsConfig_WhatTheAppHostRendersTheSimulatorReads()
    {
        var config = new PdApp.Protocol.KvEvents.KvEventsConfig
        {
            EnableKvCacheEvents = true,
            Publisher = PdApp.Protocol.KvEvents.KvEventsConfig.ZmqPublisher,
            Endpoint = "tcp://*:5600",
            ReplayEndpoint = "tcp://*:5700",
            Topic = "kv@prefill-0@dp7b",
        };
        var rendered = new VllmServeArguments
        {
            Model = "/data/dp7b/",
            Port = 8100,
            KvEventsConfigJson = config.ToJson(),
            BlockSize = 32,
            PrefixCachingHashAlgo = "sha256_cbor",
        }.Render(VllmEntrypoint.VllmServe, includeLauncher: false);
        var ignored = new List<string>();

        var options = SimulatorOptionsParser.Parse([.. rendered.Cast<string>()], ignored);

        Assert.Equal(config, options.KvEvents);
        Assert.True(options.KvEvents!.PublishesOverZmq);
        Assert.Contains(VllmEngineArguments.EnablePrefixCaching.Name, rendered.Cast<string>());
        Assert.Equal(32, options.BlockSize);
        Assert.Equal(["sha256_cbor"], rendered.Cast<string>().SkipWhile(a => a != VllmEngineArguments.PrefixCachingHashAlgo.Name).Skip(1).Take(1));
        Assert.DoesNotContain(ignored, line => line.Contains("unknown", StringComparison.Ordinal));
    }

    [Fact]
    public void EngineArguments_TheSimulatorKnowsEveryDefinedFlag()
    {
        var ignored = new List<string>();
        // Engine-only flags the simulator models itself (--max-num-batched-tokens: its step budget) are honoured, not ignored.
        var engineOnly = VllmEngineArguments.EngineOnly.Where(f => !SimulatorFlags.All.Any(s => s.Name == f.Name)).ToArray();
        string[] switches = [.. engineOnly.Where(f => f.Arity == VllmFlagArity.None).SelectMany(f => f.Aliases.Prepend(f.Name))];
        string[] valued = [.. engineOnly.Where(f => f.Arity != VllmFlagArity.None).SelectMany(f => f.Aliases.Prepend(f.Name)).SelectMany(f => new[] { f, "1" })];

        SimulatorOptionsParser.Parse(["serve", "m", .. switches, .. valued], ignored);

        Assert.Equal(switches.Length + (valued.Length / 2), ignored.Count);
        Assert.All(ignored, line => Assert.StartsWith("Ignoring engine-only vLLM flag", line, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(PdRole.Prefill, "P")]
    [InlineData(PdRole.Decode, "D")]
    public void P2pNcclRegistration_TheSimulatorsFrameIsWhatTheProxyReads(PdRole role, string type)
    {
        var sent = new P2pNcclRegistrationMessage(role, "10.0.0.1:8100", "10.0.0.1:21001");

        Assert.True(P2pNcclRegistration.TryParse(sent.ToMsgPack(), out var received, out var error), error);
        Assert.Equal(sent, received);
        Assert.Equal(type, received!.Type);
    }

    [Theory]
    [InlineData("not-an-address", "10.0.0.1:21001", "\"http_address\" must be ip:port (was \"not-an-address\")")]
    [InlineData("10.0.0.1:8100", "10.0.0.1:0", "\"zmq_address\" must be ip:port (was \"10.0.0.1:0\")")]
    public void P2pNcclRegistration_TheProxyRejectsAddressesItCannotUse(string http, string zmq, string expected)
    {
        var frame = new P2pNcclRegistrationMessage(PdRole.Decode, http, zmq).ToMsgPack();

        Assert.True(P2pNcclRegistrationMessage.TryParse(frame, out _, out _));
        Assert.False(P2pNcclRegistration.TryParse(frame, out var registration, out var error));
        Assert.Null(registration);
        Assert.Equal(expected, error);
    }

    [Theory]
    [InlineData("prefill-0", true, "/admin/instances/prefill-0/drain")]
    [InlineData("decode 1", false, "/admin/instances/decode%201/undrain")]
    public void AdminRoutes_TheDashboardCallsThePathsTheProxyMaps(string name, bool drain, string expected)
    {
        Assert.Equal(expected, PdAdminRoutes.Draining(name, drain));
        Assert.Equal(PdAdminRoutes.Instances + PdAdminRoutes.DrainTemplate.Replace("{name}", "prefill-0", StringComparison.Ordinal), PdAdminRoutes.Draining("prefill-0", drain: true));
    }

    [Fact]
    public void OpenAiErrorBody_SerializesAsOpenAiAndVllmDo()
    {
        var json = System.Text.Encoding.UTF8.GetString(OpenAiErrorResponse.Create(503, OpenAiErrorTypes.ServiceUnavailable, "no decode instance").ToUtf8Json());

        Assert.Equal("""{"error":{"message":"no decode instance","type":"service_unavailable","param":null,"code":503}}""", json);
    }

    [Fact]
    public void Protocol_DependsOnNothingFromAspNetCore()
    {
        var references = typeof(OpenAiErrorResponse).Assembly.GetReferencedAssemblies().Select(a => a.Name!);

        Assert.DoesNotContain(references, name => name.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
    }
}
