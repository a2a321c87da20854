using System.Text;
using System.Text.Json;
using PdApp.Protocol;
using PdApp.Proxy.Pipeline;
using PdApp.Proxy.Pipeline.Flows;
using PdApp.Proxy.Pipeline.Options;
using PdApp.Proxy.Pipeline.Requests;
using PdApp.Proxy.Routing;
using PdApp.Proxy.Routing.Balancing;
using PdApp.Proxy.Routing.Options;

namespace PdApp.Tests.Proxy;

/// <summary>The exact bodies and request ids each connector family sends to P and D.</summary>
public sealed class DisaggregationFlowTests
{
    private static readonly UpstreamInstance PrefillHost = new("prefill-0", PdRole.Prefill, new Uri("http://10.0.0.1:8100/"), InstanceSource.Configuration, "10.0.0.1:21001");
    private static readonly UpstreamInstance DecodeHost = new("decode-0", PdRole.Decode, new Uri("http://10.0.0.2:8200/"), InstanceSource.Configuration, "10.0.0.2:22001");

    private static CompletionRequest Parse(string json, OpenAiRoute route = OpenAiRoute.Completions)
    {
        Assert.True(CompletionRequestParser.TryParse(route, Encoding.UTF8.GetBytes(json), null, out var request, out var error), error?.Message);
        return request!;
    }

    private static DisaggregationFlow FlowFor(string connector, params string[] children) =>
        ConnectorFlowResolver.Create(new DeploymentOptions { Connector = connector, ChildConnectors = [.. children] });

    [Fact]
    public void TwoStepPrefillBody_AsksForOneTokenWithoutStreamingAndKeepsEverythingElse()
    {
        using var request = Parse("""{"model":"m","prompt":"hello","max_tokens":500,"max_completion_tokens":400,"stream":true,"stream_options":{"include_usage":true},"min_tokens":5,"temperature":0.7,"logit_bias":{"50256":-100}}""");

        using var body = JsonDocument.Parse(FlowFor(KvConnectorNames.SharedStorage).CreatePrefillBody(request));
        var root = body.RootElement;

        Assert.Equal(1, root.GetProperty("max_tokens").GetInt32());
        Assert.Equal(1, root.GetProperty("max_completion_tokens").GetInt32());
        Assert.False(root.GetProperty("stream").GetBoolean());
        Assert.False(root.TryGetProperty("stream_options", out _));
        Assert.False(root.TryGetProperty("min_tokens", out _));
        Assert.Equal(0.7, root.GetProperty("temperature").GetDouble());
        Assert.Equal(-100, root.GetProperty("logit_bias").GetProperty("50256").GetInt32());
        Assert.Equal("hello", root.GetProperty("prompt").GetString());
        Assert.False(root.TryGetProperty("kv_transfer_params", out _));
    }

    [Fact]
    public void TwoStepPrefillBody_WithoutMaxTokens_AddsItAndNotMaxCompletionTokens()
    {
        using var request = Parse("""{"model":"m","messages":[{"role":"user","content":"hi"}]}""", OpenAiRoute.ChatCompletions);

        using var body = JsonDocument.Parse(FlowFor(KvConnectorNames.LMCacheV1).CreatePrefillBody(request));

        Assert.Equal(1, body.RootElement.GetProperty("max_tokens").GetInt32());
        Assert.False(body.RootElement.TryGetProperty("max_completion_tokens", out _));
    }

    [Fact]
    public void TwoStepDecodeBody_IsTheClientsBytesUnchanged()
    {
        const string Json = """{"model":"m","prompt":"hello",  "max_tokens":7,"stream":true}""";
        using var request = Parse(Json);

        var decode = FlowFor(KvConnectorNames.PyNccl).CreateDecodeBody(request, new PrefillResponse(200, "{}"u8.ToArray()), PrefillHost, DecodeHost);

        Assert.Equal(Json, Encoding.UTF8.GetString(decode.Body.Span));
        Assert.Null(decode.PrefillConfirmedTransfer);
    }

    [Fact]
    public void NixlPrefillBody_AsksPrefillToKeepTheKvForARemoteDecode()
    {
        using var request = Parse("""{"model":"m","prompt":"hello","max_tokens":50,"min_tokens":3,"stream":true}""");

        using var body = JsonDocument.Parse(FlowFor(KvConnectorNames.Nixl).CreatePrefillBody(request));
        var kv = body.RootElement.GetProperty("kv_transfer_params");

        Assert.True(kv.GetProperty("do_remote_decode").GetBoolean());
        Assert.False(kv.GetProperty("do_remote_prefill").GetBoolean());
        foreach (var name in new[] { "remote_engine_id", "remote_block_ids", "remote_host", "remote_port" })
        {
            Assert.Equal(JsonValueKind.Null, kv.GetProperty(name).ValueKind);
        }

        Assert.False(body.RootElement.TryGetProperty("min_tokens", out _));
        Assert.Equal(1, body.RootElement.GetProperty("max_tokens").GetInt32());
    }

    [Fact]
    public void NixlDecodeBody_CopiesPrefillsParamsAsIsAndKeepsMinTokens()
    {
        using var request = Parse("""{"model":"m","prompt":"hello","max_tokens":50,"min_tokens":3}""");
        var prefillResponse = """{"id":"x","choices":[],"kv_transfer_params":{"do_remote_prefill":true,"do_remote_decode":false,"remote_engine_id":"e1","remote_block_ids":[1,2,3],"remote_host":"10.0.0.1","remote_port":5600,"tp_size":1,"future_field":{"a":1}}}""";

        var decode = FlowFor(KvConnectorNames.Nixl).CreateDecodeBody(request, new PrefillResponse(200, Encoding.UTF8.GetBytes(prefillResponse)), PrefillHost, DecodeHost);
        using var body = JsonDocument.Parse(decode.Body);
        var kv = body.RootElement.GetProperty("kv_transfer_params");

        Assert.True(decode.PrefillConfirmedTransfer);
        Assert.Equal("e1", kv.GetProperty("remote_engine_id").GetString());
        Assert.Equal([1, 2, 3], kv.GetProperty("remote_block_ids").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal("10.0.0.1", kv.GetProperty("remote_host").GetString());
        Assert.Equal(1, kv.GetProperty("future_field").GetProperty("a").GetInt32());
        Assert.Equal(3, body.RootElement.GetProperty("min_tokens").GetInt32());
        Assert.Equal(50, body.RootElement.GetProperty("max_tokens").GetInt32());
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("127.0.0.1")]
    [InlineData("0.0.0.0")]
    public void NixlDecodeBody_LoopbackRemoteHostOnAnotherMachine_IsRewrittenToPrefillsAddress(string advertised)
    {
        using var request = Parse("""{"model":"m","prompt":"hello"}""");
        var prefillResponse = $$$"""{"kv_transfer_params":{"do_remote_prefill":true,"remote_engine_id":"e1","remote_block_ids":[4],"remote_host":"{{{advertised}}}","remote_port":5600}}""";

        var decode = FlowFor(KvConnectorNames.Nixl).CreateDecodeBody(request, new PrefillResponse(200, Encoding.UTF8.GetBytes(prefillResponse)), PrefillHost, DecodeHost);
        using var body = JsonDocument.Parse(decode.Body);

        Assert.Equal("10.0.0.1", body.RootElement.GetProperty("kv_transfer_params").GetProperty("remote_host").GetString());
        Assert.Equal(5600, body.RootElement.GetProperty("kv_transfer_params").GetProperty("remote_port").GetInt32());
    }

    [Fact]
    public void NixlDecodeBody_LoopbackRemoteHostOnTheSameMachine_IsKept()
    {
        using var request = Parse("""{"model":"m","prompt":"hello"}""");
        var prefill = new UpstreamInstance("p", PdRole.Prefill, new Uri("http://127.0.0.1:8100/"), InstanceSource.Configuration);
        var decode = new UpstreamInstance("d", PdRole.Decode, new Uri("http://localhost:8200/"), InstanceSource.Configuration);

        var result = FlowFor(KvConnectorNames.Nixl).CreateDecodeBody(
            request, new PrefillResponse(200, """{"kv_transfer_params":{"remote_host":"localhost","remote_port":5600}}"""u8.ToArray()), prefill, decode);
        using var body = JsonDocument.Parse(result.Body);

        Assert.Equal("localhost", body.RootElement.GetProperty("kv_transfer_params").GetProperty("remote_host").GetString());
    }

    [Fact]
    public void NixlDecodeBody_WithoutParamsFromPrefill_IsTheOriginalBody()
    {
        const string Json = """{"model":"m","prompt":"hello"}""";
        using var request = Parse(Json);

        var decode = FlowFor(KvConnectorNames.Nixl).CreateDecodeBody(request, new PrefillResponse(200, """{"id":"x"}"""u8.ToArray()), PrefillHost, DecodeHost);

        Assert.Equal(Json, Encoding.UTF8.GetString(decode.Body.Span));
        Assert.False(decode.PrefillConfirmedTransfer);
    }

    [Fact]
    public void P2pNcclRequestId_NamesBothKvAddressesAndAUuid()
    {
        var flow = FlowFor(KvConnectorNames.P2pNccl);

        var id = flow.CreateUpstreamRequestId("client-id", PrefillHost, DecodeHost);

        Assert.True(flow.SelectsDecodeBeforePrefill);
        Assert.Matches("^___prefill_addr_10\\.0\\.0\\.1:21001___decode_addr_10\\.0\\.0\\.2:22001_[0-9a-f]{32}$", id);
    }

    [Fact]
    public void P2pNcclPair_WithoutKvAddress_IsRejected()
    {
        var noKv = new UpstreamInstance("p", PdRole.Prefill, new Uri("http://10.0.0.1:8100/"), InstanceSource.Configuration);

        Assert.Contains("KV address", FlowFor(KvConnectorNames.P2pNccl).ValidatePair(noKv, DecodeHost));
        Assert.Null(FlowFor(KvConnectorNames.P2pNccl).ValidatePair(PrefillHost, DecodeHost));
    }

    [Theory]
    [InlineData(KvConnectorNames.SharedStorage, typeof(TwoStepFlow), true, true)]
    [InlineData(KvConnectorNames.LMCacheV1, typeof(LMCacheFlow), true, true)]
    [InlineData(KvConnectorNames.PyNccl, typeof(TwoStepFlow), false, false)]
    [InlineData(KvConnectorNames.Nixl, typeof(NixlFlow), true, true)]
    [InlineData(KvConnectorNames.P2pNccl, typeof(P2pNcclFlow), false, false)]
    public void Connector_ChoosesItsFlowAndCapabilities(string connector, Type flowType, bool decodeAlone, bool decodeRetry)
    {
        var flow = FlowFor(connector);

        Assert.IsType(flowType, flow);
        Assert.Equal(connector, flow.Connector);
        Assert.Equal(new FlowCapabilities(decodeAlone, decodeRetry), flow.Capabilities);
    }

    [Fact]
    public void MultiConnector_FollowsItsMostDemandingChild()
    {
        Assert.IsType<NixlFlow>(FlowFor(KvConnectorNames.Multi, KvConnectorNames.SharedStorage, KvConnectorNames.Nixl));
        Assert.IsType<LMCacheFlow>(FlowFor(KvConnectorNames.Multi, KvConnectorNames.SharedStorage, KvConnectorNames.LMCacheV1));
        Assert.IsType<TwoStepFlow>(FlowFor(KvConnectorNames.Multi, KvConnectorNames.SharedStorage, KvConnectorNames.PyNccl));
        Assert.False(FlowFor(KvConnectorNames.Multi, KvConnectorNames.SharedStorage, KvConnectorNames.PyNccl).Capabilities.DecodeCanPrefillAlone);
        Assert.Equal(KvConnectorNames.Multi, FlowFor(KvConnectorNames.Multi, KvConnectorNames.Nixl).Connector);
    }

    [Fact]
    public void ChatAffinityKey_CoversEveryMessageInOrder()
    {
        using var request = Parse(
            """{"model":"m","messages":[{"role":"system","content":"S"},{"role":"user","content":[{"type":"text","text":"first"},{"type":"text","text":"second"}]},{"role":"assistant","content":"A"},{"role":"user","content":"last"}]}""",
            OpenAiRoute.ChatCompletions);

        Assert.Equal(StableHash.Hash("system: S\nuser: firstsecond\nassistant: A\nuser: last\n"), request.AffinityKey);
    }

    // The key is the hash of the rendering's first characters, computed once at parse time (no prompt text is
    // held for the stream): the same value the policy used to compute from the kept text, so replicas of an
    // older and a newer proxy place every prefix alike.
    [Theory]
    [InlineData(OpenAiRoute.ChatCompletions, """{"model":"m","messages":[{"role":"system","content":"S"},{"role":"user","content":[{"type":"text","text":"first"},{"type":"text","text":"second"}]}]}""", "system: S\nuser: firstsecond\n")]
    [InlineData(OpenAiRoute.Completions, """{"model":"m","prompt":"a long prompt whose start alone is the affinity key"}""", "a long prompt whose start alone is the affinity key")]
    [InlineData(OpenAiRoute.Completions, """{"model":"m","prompt":["first prompt","second prompt"]}""", "first prompt\nsecond prompt\n")]
    [InlineData(OpenAiRoute.Completions, """{"model":"m","prompt":[[101,102,103],[104,105]]}""", "101 102 103 \n104 105 \n")]
    // Escapes and text beyond ASCII: the rendering is the unescaped text, as a string of it would be.
    [InlineData(OpenAiRoute.Completions, """{"model":"m","prompt":"line\none \"quoted\" caf\u00e9 \ud83d\ude00 \u4e2d\u6587 中文"}""", "line\none \"quoted\" café 😀 中文 中文")]
    [InlineData(OpenAiRoute.ChatCompletions, """{"model":"m","messages":[{"role":"us\u0065r","content":"tab\there é"}]}""", "user: tab\there é\n")]
    public void AffinityKey_IsTheHashOfTheRenderingsFirstCharacters_TheEstimateCountsTheWholePrompt(OpenAiRoute route, string json, string rendering)
    {
        using var whole = Parse(json, route);
        Assert.Equal(StableHash.Hash(rendering), whole.AffinityKey);
        foreach (var length in new[] { 0, 1, 9, 512 })
        {
            Assert.True(CompletionRequestParser.TryParse(route, Encoding.UTF8.GetBytes(json), null, out var bounded, out var error, promptTextLength: length), error?.Message);
            using (bounded)
            {
                Assert.Equal(length == 0 ? null : StableHash.Hash(rendering.AsSpan(0, Math.Min(length, rendering.Length))), bounded!.AffinityKey);
                Assert.Equal(StableHash.PrefixKey(rendering, length), bounded.AffinityKey);
                Assert.Equal(whole.EstimatedPromptTokens, bounded.EstimatedPromptTokens);
            }
        }
    }

    [Fact]
    public void LargePrompt_BeyondThePooledBuffer_KeyAndEstimateAsForAString()
    {
        // 100 000 characters with escapes: unescaped into a buffer of its own rather than a pooled one.
        var text = string.Concat(Enumerable.Repeat(@"caf\u00e9 \""x\""\n", 10_000));
        var rendering = string.Concat(Enumerable.Repeat("café \"x\"\n", 10_000));
        var json = $$"""{"model":"m","prompt":"{{text}}"}""";

        Assert.True(CompletionRequestParser.TryParse(OpenAiRoute.Completions, Encoding.UTF8.GetBytes(json), null, out var request, out var error, promptTextLength: 512), error?.Message);
        using (request)
        {
            Assert.Equal(StableHash.PrefixKey(rendering, 512), request!.AffinityKey);
            Assert.Equal((rendering.Length + 3) / 4, request.EstimatedPromptTokens);
        }
    }

    [Fact]
    public void AffinityKey_IsEqualForPromptsSharingTheKeyedPrefix_AndDiffersOtherwise()
    {
        const int length = 512;
        ulong? KeyOf(string system, string user)
        {
            var json = $$"""{"model":"m","messages":[{"role":"system","content":"{{system}}"},{"role":"user","content":"{{user}}"}]}""";
            Assert.True(CompletionRequestParser.TryParse(OpenAiRoute.ChatCompletions, Encoding.UTF8.GetBytes(json), null, out var request, out var error, length), error?.Message);
            using (request)
            {
                return request!.AffinityKey;
            }
        }

        // Both renderings start with "system: " + 504 of the system prompt's characters: the turns past them do not count.
        var system = new string('s', length);
        Assert.NotNull(KeyOf(system, "first question"));
        Assert.Equal(KeyOf(system, "first question"), KeyOf(system, "a different question"));

        // A difference inside the keyed prefix (its last character) gives another key.
        Assert.NotEqual(KeyOf(system, "q"), KeyOf(system[..503] + "t" + system[504..], "q"));
    }

    [Fact]
    public void EmptyRendering_HasNoAffinityKey()
    {
        using var request = Parse("""{"model":"m","prompt":""}""");

        Assert.Null(request.AffinityKey);
    }

    [Theory]
    [InlineData(BalancingPolicyKind.PrefixAffinity, BalancingPolicyKind.LeastOutstanding, 512)]
    [InlineData(BalancingPolicyKind.RoundRobin, BalancingPolicyKind.PrefixAffinity, 512)]
    [InlineData(BalancingPolicyKind.KvAware, BalancingPolicyKind.LeastOutstanding, 0)]
    [InlineData(BalancingPolicyKind.LoadAware, BalancingPolicyKind.PowerOfTwoChoices, 0)]
    public void AffinityKeyLength_IsThePrefixLengthOnlyWhenARoleBalancesByPrefix(BalancingPolicyKind prefill, BalancingPolicyKind decode, int expected)
    {
        Assert.Equal(expected, new BalancingOptions { Prefill = prefill, Decode = decode }.AffinityKeyLength);
    }

    [Fact]
    public void TokenIdPrompt_IsCountedExactly()
    {
        using var request = Parse("""{"model":"m","prompt":[1,2,3,4,5,6,7]}""");

        Assert.Equal(7, request.EstimatedPromptTokens);
    }
}
