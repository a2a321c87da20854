using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Protocol.KvEvents;
using PdApp.Proxy.Routing;
using PdApp.Proxy.Routing.KvCache;

namespace PdApp.Tests.Proxy.KvCache;

/// <summary>Builds indexes, events and prompts for the KV cache routing tests (block size 4).</summary>
internal static class KvIndexTestKit
{
    public const int BlockSize = 4;

    public static KvCacheOptions Options(Action<KvCacheOptions>? configure = null)
    {
        var options = new KvCacheOptions { Enabled = true, BlockSize = BlockSize };
        configure?.Invoke(options);
        return options;
    }

    public static KvBlockIndex Index(TimeProvider time, Action<KvCacheOptions>? configure = null) =>
        new(Microsoft.Extensions.Options.Options.Create(Options(configure)), time);

    public static UpstreamInstance Instance(string name, PdRole role = PdRole.Prefill) =>
        new(name, role, new Uri($"http://{name}.test:8000/"), InstanceSource.Configuration);

    /// <summary>A prompt of <paramref name="blocks"/> full blocks starting at token <paramref name="first"/>.</summary>
    public static int[] Prompt(int blocks, int first = 1000) => Enumerable.Range(first, blocks * BlockSize).ToArray();

    /// <summary>
    /// What an engine publishes after caching <paramref name="tokens"/>: engine hashes deliberately
    /// unlike PdApp's keys (real vLLM uses its own hash), chained through the parent.
    /// </summary>
    public static KvEventBatch Stored(int[] tokens, int fromBlock = 0, ulong engineSalt = 0xABCDEF)
    {
        var blocks = tokens.Length / BlockSize;
        var hashes = Enumerable.Range(fromBlock, blocks - fromBlock).Select(i => EngineHash(tokens, i, engineSalt)).ToArray();
        ulong? parent = fromBlock == 0 ? null : EngineHash(tokens, fromBlock - 1, engineSalt);
        return new KvEventBatch(0, [new BlockStored(hashes, parent, tokens[(fromBlock * BlockSize)..(blocks * BlockSize)], BlockSize, null, "GPU", null)], 0);
    }

    public static KvEventBatch Removed(int[] tokens, int block, ulong engineSalt = 0xABCDEF) =>
        new(0, [new BlockRemoved([EngineHash(tokens, block, engineSalt)], "GPU")], 0);

    public static ulong EngineHash(int[] tokens, int block, ulong salt)
    {
        // Any deterministic function of the prefix up to this block will do.
        var hash = salt;
        for (var i = 0; i < (block + 1) * BlockSize; i++)
        {
            hash = (hash * 31) + (ulong)tokens[i];
        }

        return hash;
    }

    public static ulong[] Keys(int[] tokens) => KvBlockHasher.HashBlocks(tokens, BlockSize);

    public static KvAwareServices Services(KvBlockIndex index, KvCacheOptions options) =>
        new(index, Microsoft.Extensions.Options.Options.Create(options), new KvCacheMeter(new TestMeterFactory()));

    private sealed class TestMeterFactory : System.Diagnostics.Metrics.IMeterFactory
    {
        private readonly List<System.Diagnostics.Metrics.Meter> _meters = [];

        public System.Diagnostics.Metrics.Meter Create(System.Diagnostics.Metrics.MeterOptions options)
        {
            var meter = new System.Diagnostics.Metrics.Meter(options);
            _meters.Add(meter);
            return meter;
        }

        public void Dispose() => _meters.ForEach(m => m.Dispose());
    }
}
