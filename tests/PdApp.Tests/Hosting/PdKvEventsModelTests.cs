using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using PdApp.Hosting;
using PdApp.Hosting.Topology;
using PdApp.Protocol.KvEvents;
using PdApp.Protocol.Vllm;

namespace PdApp.Tests.Hosting;

/// <summary>
/// <c>Pd:KvEvents</c>: every engine (container or simulator) publishes its KV events on its own ports, declared as
/// endpoints, and the proxy is pointed at them; off unless the proxy routes on the KV cache.
/// </summary>
public sealed class PdKvEventsModelTests
{
    private static readonly (string, string) KvAwarePrefill = ("Pd:Proxy:Balancing:Prefill", "KvAware");

    private static PdOptions Load(params (string Key, string Value)[] settings) =>
        PdOptionsLoader.Load(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build());

    private static (IDistributedApplicationBuilder Builder, IResourceBuilder<PdProxyResource> Proxy) Declare(
        PdBackend backend, params (string Key, string Value)[] settings)
    {
        var builder = AppModel.CreateBuilder();
        var topology = builder.AddPdInstances<Projects.PdApp_Simulator>(Load(settings), new PdBackendDecision(backend, "chosen by the test"));
        return (builder, builder.AddPdProxy<Projects.PdApp_Proxy>(PdProxyResource.DefaultName).WithPdInstances(topology));
    }

    private static string ValueOf(IReadOnlyList<string> args, VllmFlag flag) => args[args.ToList().IndexOf(flag.Name) + 1];

    private static EndpointAnnotation Endpoint(IResource resource, string name) =>
        resource.Annotations.OfType<EndpointAnnotation>().Single(e => e.Name == name);

    [Theory]
    [InlineData(PdBackend.Simulator)]
    [InlineData(PdBackend.Vllm)]
    public async Task KvAwarePolicy_EachEnginePublishesOnItsOwnPorts_AndTheProxyIsPointedAtThem(PdBackend backend)
    {
        var (builder, proxy) = Declare(backend, KvAwarePrefill, ("Pd:Decode:Count", "2"));
        var (_, proxyEnv) = await AppModel.EvaluateAsync(proxy.Resource);

        var expected = new[] { ("prefill-0", 5557, 5558), ("decode-0", 5559, 5560), ("decode-1", 5561, 5562) };
        foreach (var (name, port, replay) in expected)
        {
            var engine = builder.Resources.Single(r => r.Name == name);
            var (args, _) = await AppModel.EvaluateAsync(engine);

            // The flag vLLM reads (and the simulator parses from the same definition), binding every interface.
            var config = KvEventsConfig.Parse(ValueOf(args, VllmEngineArguments.KvEventsConfig));
            Assert.True(config.PublishesOverZmq);
            Assert.Equal($"tcp://*:{port}", config.Endpoint);
            Assert.Equal($"tcp://*:{replay}", config.ReplayEndpoint);
            Assert.Contains(VllmEngineArguments.EnablePrefixCaching.Name, args);

            // Endpoints the dashboard lists, on the same fixed ports (the engine binds them itself).
            var events = Endpoint(engine, VllmResource.KvEventsEndpointName);
            var replayEndpoint = Endpoint(engine, VllmResource.KvEventsReplayEndpointName);
            Assert.Equal(("tcp", port, port, false), (events.UriScheme, events.Port, events.TargetPort, events.IsProxied));
            Assert.Equal(("tcp", replay, replay), (replayEndpoint.UriScheme, replayEndpoint.Port, replayEndpoint.TargetPort));

            // The proxy reaches each through the endpoint's reference.
            Assert.Equal(
                $"tcp://{{{name}.bindings.kv-events.host}}:{{{name}.bindings.kv-events.port}}",
                proxyEnv[$"Pd__Proxy__KvCache__Endpoints__{name}__Endpoint"]);
            Assert.Equal(
                $"tcp://{{{name}.bindings.kv-replay.host}}:{{{name}.bindings.kv-replay.port}}",
                proxyEnv[$"Pd__Proxy__KvCache__Endpoints__{name}__ReplayEndpoint"]);
        }

        Assert.Equal("true", proxyEnv["Pd__Proxy__KvCache__Enabled"]);
    }

    [Fact]
    public async Task Default_NoEngineGetsKvEventFlagsOrEndpoints()
    {
        var (builder, proxy) = Declare(PdBackend.Vllm);
        var (args, _) = await AppModel.EvaluateAsync(builder.Resources.Single(r => r.Name == "prefill-0"));
        var (_, proxyEnv) = await AppModel.EvaluateAsync(proxy.Resource);

        Assert.DoesNotContain(VllmEngineArguments.KvEventsConfig.Name, args);
        Assert.DoesNotContain(VllmEngineArguments.EnablePrefixCaching.Name, args);
        Assert.DoesNotContain(builder.Resources.SelectMany(r => r.Annotations.OfType<EndpointAnnotation>()), e => e.Name == VllmResource.KvEventsEndpointName);
        Assert.DoesNotContain(proxyEnv.Keys, k => k.StartsWith("Pd__Proxy__KvCache__", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Pd:Proxy:Balancing:Decode", "KvAware")]
    [InlineData("Pd:Proxy:KvCache:Enabled", "true")]
    [InlineData("Pd:Proxy:Disaggregation:SkipPrefillBelowUncachedTokens", "64")]
    [InlineData("Pd:KvEvents:Enabled", "true")]
    public void EventsAreOn_WhenTheProxyUsesThemOrTheyAreAskedFor(string key, string value)
    {
        Assert.True(Load((key, value)).KvEvents.IsEnabled);
        Assert.False(Load().KvEvents.IsEnabled);
    }

    [Fact]
    public async Task BlockSizeAndHashAlgorithm_ReachEveryEngine_AndTheBlockSizeTheProxy()
    {
        var (builder, proxy) = Declare(
            PdBackend.Vllm, KvAwarePrefill, ("Pd:KvEvents:BlockSize", "32"), ("Pd:KvEvents:PrefixCachingHashAlgo", "sha256_cbor"), ("Pd:KvEvents:Replay", "false"));
        var decode = builder.Resources.Single(r => r.Name == "decode-0");
        var (args, _) = await AppModel.EvaluateAsync(decode);
        var (_, proxyEnv) = await AppModel.EvaluateAsync(proxy.Resource);

        Assert.Equal("32", ValueOf(args, VllmEngineArguments.BlockSize));
        Assert.Equal("sha256_cbor", ValueOf(args, VllmEngineArguments.PrefixCachingHashAlgo));
        Assert.Equal("32", proxyEnv["Pd__Proxy__KvCache__BlockSize"]);

        // Without replay each engine takes one port: decode-0 follows prefill-0 directly.
        Assert.Null(KvEventsConfig.Parse(ValueOf(args, VllmEngineArguments.KvEventsConfig)).ReplayEndpoint);
        Assert.Equal(5558, Endpoint(decode, VllmResource.KvEventsEndpointName).Port);
        Assert.DoesNotContain(decode.Annotations.OfType<EndpointAnnotation>(), e => e.Name == VllmResource.KvEventsReplayEndpointName);
        Assert.DoesNotContain("Pd__Proxy__KvCache__Endpoints__decode-0__ReplayEndpoint", proxyEnv.Keys);
    }

    [Fact]
    public void Layout_GivesEachEngineConsecutiveEventPorts_ClaimedUnderTheirSetting()
    {
        var options = Load(KvAwarePrefill);
        var layout = PdLayout.Create(options);

        Assert.Equal([(5557, 5558), (5559, 5560)], layout.Select(i => (i.KvEventsPort, i.KvEventsReplayPort)));
        Assert.Contains(PdPortClaims.For(options, layout), c => c is { Port: 5560, Setting: "Pd:KvEvents:BasePort", Owner: "decode-0 (KV events replay)" });
    }

    [Theory]
    [InlineData("Pd:KvEvents:BasePort", "8099", "Pd:KvEvents:BasePort 8100 of prefill-0 (KV events replay) clashes with Pd:Prefill:BasePort of prefill-0 (HTTP)")]
    [InlineData("Pd:KvEvents:BlockSize", "0", "Pd:KvEvents:BlockSize must be between 1 and 1024")]
    [InlineData("Pd:KvEvents:PrefixCachingHashAlgo", " ", "Pd:KvEvents:PrefixCachingHashAlgo must not be blank")]
    [InlineData("Pd:KvEvents:Enabled", "false", "Pd:KvEvents:Enabled is false, but the proxy routes on the engines' KV caches")]
    public void InvalidKvEventsSettings_AreRefusedNamingTheSetting(string key, string value, string message)
    {
        var failure = Assert.Throws<OptionsValidationException>(() => Load(KvAwarePrefill, (key, value))).Message;

        Assert.Contains(message, failure, StringComparison.Ordinal);
    }

    [Fact]
    public void WithKvEvents_RejectsBadPortsAndNullBuilders()
    {
        var builder = AppModel.CreateBuilder();
        var vllm = builder.AddVllmPrefill("prefill-0", model: "m");

        Assert.Throws<ArgumentNullException>(() => VllmBuilderExtensions.WithKvEvents(null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => vllm.WithKvEvents(0));
        Assert.Throws<ArgumentException>(() => vllm.WithKvEvents(5557, 5557));
    }
}
