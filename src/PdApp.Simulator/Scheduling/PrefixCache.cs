using PdApp.Protocol.KvEvents;
using PdApp.Simulator.Configuration;

namespace PdApp.Simulator.Scheduling;

/// <summary>
/// vLLM's automatic prefix caching, per instance: full blocks of <c>--block-size</c> prompt tokens,
/// keyed by the chained <see cref="KvBlockHasher"/> key, stay cached after their request ends and
/// are evicted least recently used first when more than <c>--kv-cache-size</c> blocks are cached.
/// Blocks held by a running request are never evicted (vLLM's ref count); a request's hit is its
/// longest run of cached leading blocks. Every store and eviction is told to the
/// <see cref="IKvEventSink"/> as vLLM's <c>BlockStored</c> / <c>BlockRemoved</c>.
/// </summary>
/// <remarks>
/// Simplification: vLLM bounds cached and running blocks together (a cached block is a free block
/// that still holds its hash); here the cache is bounded by the same <c>--kv-cache-size</c> on its
/// own, while admission keeps counting every running request's blocks (<c>kv_cache_usage_perc</c>).
/// Only prompt blocks are cached, not generated ones.
/// </remarks>
internal sealed class PrefixCache
{
    private const string Medium = "GPU";

    private readonly object _gate = new();
    private readonly Dictionary<ulong, Block> _blocks = new();
    private readonly LinkedList<Block> _evictable = new();
    private readonly IKvEventSink _sink;
    private readonly int _capacity;

    /// <summary>Creates the cache.</summary>
    public PrefixCache(SimulatorOptions options, IKvEventSink sink)
    {
        BlockSize = options.BlockSize;
        _capacity = options.Timing.KvCacheSizeBlocks;
        _sink = sink;
    }

    /// <summary>Tokens per block.</summary>
    public int BlockSize { get; }

    /// <summary>Blocks cached now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _blocks.Count;
            }
        }
    }

    /// <summary>Whether a block is cached (tests).</summary>
    public bool Contains(ulong key)
    {
        lock (_gate)
        {
            return _blocks.ContainsKey(key);
        }
    }

    /// <summary>
    /// Looks up the prompt's leading blocks and holds the cached run until the returned hold is
    /// disposed. At most <c>(tokens - 1) / block size</c> blocks hit: vLLM always computes the last
    /// prompt token to produce the first output.
    /// </summary>
    /// <param name="promptTokens">The prompt's token ids.</param>
    /// <returns>The hold, with its hit length.</returns>
    public PrefixHold Acquire(int[] promptTokens)
    {
        var keys = KvBlockHasher.HashBlocks(promptTokens, BlockSize);
        var limit = Math.Min(keys.Length, Math.Max(0, promptTokens.Length - 1) / BlockSize);
        var hold = new PrefixHold(this, keys, promptTokens);
        lock (_gate)
        {
            while (hold.Held < limit && _blocks.TryGetValue(keys[hold.Held], out var block))
            {
                Pin(block);
                hold.Held++;
            }
        }

        hold.CachedBlocks = hold.Held;
        return hold;
    }

    /// <summary>Caches the rest of the hold's full blocks (computed or received), evicting as needed.</summary>
    internal void Store(PrefixHold hold)
    {
        var events = new List<KvCacheEvent>(2);
        lock (_gate)
        {
            var keys = hold.Keys;
            var firstNew = -1;
            for (var i = hold.Held; i < keys.Length; i++)
            {
                if (_blocks.TryGetValue(keys[i], out var existing))
                {
                    // Another request stored it meanwhile: share it.
                    Pin(existing);
                }
                else
                {
                    var block = new Block(keys[i]);
                    _blocks.Add(keys[i], block);
                    block.References = 1;
                    firstNew = firstNew < 0 ? i : firstNew;
                }

                hold.Held++;
            }

            var evicted = EvictOverCapacity();
            if (evicted.Count > 0)
            {
                events.Add(new BlockRemoved(evicted, Medium));
            }

            if (firstNew >= 0)
            {
                var count = keys.Length - firstNew;
                var tokens = hold.Tokens.AsSpan(firstNew * BlockSize, count * BlockSize).ToArray();
                events.Add(new BlockStored(
                    keys[firstNew..], firstNew == 0 ? null : keys[firstNew - 1], tokens, BlockSize, null, Medium, null));
            }

            if (events.Count > 0)
            {
                _sink.Publish(events);
            }
        }
    }

    /// <summary>Ends a hold: its blocks become evictable once no other request holds them.</summary>
    internal void Release(PrefixHold hold)
    {
        lock (_gate)
        {
            for (var i = 0; i < hold.Held; i++)
            {
                if (_blocks.TryGetValue(hold.Keys[i], out var block) && --block.References == 0)
                {
                    block.Node = _evictable.AddLast(block);
                }
            }

            hold.Held = 0;
            var evicted = EvictOverCapacity();
            if (evicted.Count > 0)
            {
                _sink.Publish([new BlockRemoved(evicted, Medium)]);
            }
        }
    }

    /// <summary>Drops every cached block (vLLM's <c>reset_prefix_cache</c>): <c>AllBlocksCleared</c>.</summary>
    public void Clear()
    {
        lock (_gate)
        {
            _blocks.Clear();
            _evictable.Clear();
            _sink.Publish([new AllBlocksCleared()]);
        }
    }

    private void Pin(Block block)
    {
        block.References++;
        if (block.Node is { } node)
        {
            _evictable.Remove(node);
            block.Node = null;
        }
    }

    private List<ulong> EvictOverCapacity()
    {
        var evicted = new List<ulong>();
        while (_blocks.Count > _capacity && _evictable.First is { } oldest)
        {
            _evictable.RemoveFirst();
            _blocks.Remove(oldest.Value.Key);
            evicted.Add(oldest.Value.Key);
        }

        return evicted;
    }

    private sealed class Block(ulong key)
    {
        public ulong Key { get; } = key;

        public int References { get; set; }

        public LinkedListNode<Block>? Node { get; set; }
    }
}
