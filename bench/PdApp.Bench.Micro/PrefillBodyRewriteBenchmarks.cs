using System.Text;
using BenchmarkDotNet.Attributes;
using PdApp.Protocol;
using PdApp.Proxy.Pipeline.Flows;
using PdApp.Proxy.Pipeline.Options;
using PdApp.Proxy.Pipeline.Requests;

namespace PdApp.Bench.Micro;

/// <summary>
/// The proxy's per-request body work: parse and validate the client's body, then write the prefill
/// body (max_tokens 1, stream false, stream_options removed; NIXL adds kv_transfer_params).
/// </summary>
[MemoryDiagnoser]
public class PrefillBodyRewriteBenchmarks
{
    private readonly DisaggregationFlow _twoStep = ConnectorFlowResolver.Create(new DeploymentOptions { Connector = KvConnectorNames.SharedStorage });
    private readonly DisaggregationFlow _nixl = ConnectorFlowResolver.Create(new DeploymentOptions { Connector = KvConnectorNames.Nixl });
    private byte[] _body = [];
    private CompletionRequest? _parsed;

    /// <summary>Prompt length in words (about one token each).</summary>
    [Params(100, 8000)]
    public int PromptWords { get; set; }

    /// <summary>Chat body or completions body.</summary>
    [Params(false, true)]
    public bool Chat { get; set; }

    /// <summary>Builds a client body of the chosen size.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var prompt = string.Join(' ', Enumerable.Repeat("the quick brown fox", PromptWords / 4));
        var json = Chat
            ? $$"""{"model":"m","messages":[{"role":"system","content":"You are helpful."},{"role":"user","content":"{{prompt}}"}],"max_completion_tokens":256,"stream":true,"stream_options":{"include_usage":true},"temperature":0}"""
            : $$"""{"model":"m","prompt":"{{prompt}}","max_tokens":256,"stream":true,"stream_options":{"include_usage":true},"temperature":0}""";
        _body = Encoding.UTF8.GetBytes(json);
        _parsed = Parse();
    }

    /// <summary>Releases the parsed document.</summary>
    [GlobalCleanup]
    public void Cleanup() => _parsed?.Dispose();

    /// <summary>Parse and validate only.</summary>
    [Benchmark]
    public int ParseRequest()
    {
        using var request = Parse();
        return request.EstimatedPromptTokens;
    }

    /// <summary>Prefill body of the two-step connectors (SharedStorage, PyNccl).</summary>
    [Benchmark(Baseline = true)]
    public int RewriteTwoStep() => _twoStep.CreatePrefillBody(_parsed!).Length;

    /// <summary>Prefill body of NIXL (adds kv_transfer_params).</summary>
    [Benchmark]
    public int RewriteNixl() => _nixl.CreatePrefillBody(_parsed!).Length;

    private CompletionRequest Parse()
    {
        var route = Chat ? OpenAiRoute.ChatCompletions : OpenAiRoute.Completions;
        if (!CompletionRequestParser.TryParse(route, _body, servedModel: null, out var request, out var error))
        {
            throw new InvalidOperationException($"The benchmark body was refused: {error}");
        }

        return request!;
    }
}
