using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using PdApp.Protocol;
using PdApp.Protocol.KvEvents;
using PdApp.Proxy.Routing;
using PdApp.Proxy.Routing.Balancing;
using PdApp.Proxy.Routing.KvCache;

namespace PdApp.Bench.Micro;

/// <summary>
/// The KvAware routing decision at the scale: 10,000 indexed blocks per instance, a
/// 2,048-token prompt (128 blocks of 16) of which one instance holds 100 leading blocks. Measures the
/// block keys' computation from token ids and the policy's choice (index walk + scoring).
/// </summary>
[MemoryDiagnoser]
public class KvAwareDecisionBenchmarks
{
    private const int BlockSize = 16;
    private UpstreamInstance[] _instances = [];
    private KvAwarePolicy? _policy;
    private KvAwarePolicy? _busyHolderPolicy;
    private int[] _prompt = [];
    private ulong[] _keys = [];

    /// <summary>Instances in the pool.</summary>
    [Params(4, 16)]
    public int Instances { get; set; }

    /// <summary>Indexes 10,000 blocks per instance and builds the request.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var options = new KvCacheOptions { Enabled = true, BlockSize = BlockSize };
        var index = new KvBlockIndex(Microsoft.Extensions.Options.Options.Create(options), TimeProvider.System);
        _instances = [.. Enumerable.Range(0, Instances).Select(i =>
            new UpstreamInstance($"prefill-{i}", PdRole.Prefill, new Uri($"http://127.0.0.1:{8100 + i}/"), InstanceSource.Configuration))];
        _prompt = [.. Enumerable.Range(1, 128 * BlockSize)];
        for (var i = 0; i < Instances; i++)
        {
            // 100 prompts of 100 blocks each: 10,000 blocks; instance 1 also holds the request's first 100 blocks.
            for (var p = 0; p < 100; p++)
            {
                var tokens = i == 1 && p == 0 ? _prompt[..(100 * BlockSize)] : [.. Enumerable.Range((i * 1_000_000) + (p * 10_000), 100 * BlockSize)];
                var keys = KvBlockHasher.HashBlocks(tokens, BlockSize);
                index.Apply(_instances[i].Name, new KvEventBatch(0, [new BlockStored(keys, null, tokens, BlockSize, null, "GPU", null)], 0));
            }
        }

        var services = new KvAwareServices(index, Microsoft.Extensions.Options.Options.Create(options), new KvCacheMeter(new NoMeterFactory()));
        _policy = new KvAwarePolicy(services, PdRole.Prefill, new LeastOutstandingPolicy());

        // A looser bound (4) keeps a holder with two calls in flight within it, so the estimated-prefill check runs too.
        var loose = new KvCacheOptions { Enabled = true, BlockSize = BlockSize, HolderLoadFactor = 4 };
        _busyHolderPolicy = new KvAwarePolicy(
            new KvAwareServices(index, Microsoft.Extensions.Options.Options.Create(loose), new KvCacheMeter(new NoMeterFactory())), PdRole.Prefill, new LeastOutstandingPolicy());
        _keys = KvBlockHasher.HashBlocks(_prompt, BlockSize);
    }

    /// <summary>Block keys of a 2,048-token prompt.</summary>
    [Benchmark]
    public int HashPrompt() => KvBlockHasher.HashBlocks(_prompt, BlockSize).Length;

    /// <summary>The KvAware choice for a request whose keys are known.</summary>
    [Benchmark]
    public string? Choose() =>
        _policy!.Choose(new SelectionRequest(_instances, new RoutingContext("r", null) { KvBlockKeys = _keys, KvPromptTokens = _prompt.Length }, DateTimeOffset.UtcNow))?.Name;

    /// <summary>
    /// The choice with the holder (instance 1) running two calls, so the score prefers another instance and
    /// the holder rule's checks (<c>HolderLoadFactor</c> 4, so both run) keep it there: the slowest path of a decision.
    /// </summary>
    [Benchmark]
    public string? ChooseBusyHolder()
    {
        _instances[1].Acquire();
        _instances[1].Acquire();
        try
        {
            return _busyHolderPolicy!.Choose(new SelectionRequest(_instances, new RoutingContext("r", null) { KvBlockKeys = _keys, KvPromptTokens = _prompt.Length }, DateTimeOffset.UtcNow))?.Name;
        }
        finally
        {
            _instances[1].Release();
            _instances[1].Release();
        }
    }

    private sealed class NoMeterFactory : IMeterFactory
    {
        public Meter Create(MeterOptions options) => new(options);

        public void Dispose()
        {
        }
    }
}
