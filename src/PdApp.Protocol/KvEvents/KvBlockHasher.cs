namespace PdApp.Protocol.KvEvents;

/// <summary>
/// PdApp's block key: a chained 64-bit hash of a full block's token ids and its parent block's key,
/// the shape of vLLM's prefix-cache block hash (<c>hash((parent_hash, token_ids, extra_keys))</c>,
/// vllm/v1/core/kv_cache_utils.py) without vLLM's per-process seed. The simulator uses it as its
/// engine block hash and the proxy computes the same keys from a request's token ids.
/// </summary>
/// <remarks>
/// Against real vLLM the proxy never needs vLLM's own hash (sha256/CBOR with a random seed unless
/// <c>PYTHONHASHSEED</c> is fixed): the indexer recomputes these keys from the <c>token_ids</c> every
/// <c>BlockStored</c> event carries and remembers engine hash -> key per instance, so a later
/// <c>BlockRemoved</c> (hashes only) resolves too. This is llm-d's kv-cache indexer design; it works
/// with any <c>--prefix-caching-hash-algo</c>.
/// </remarks>
public static class KvBlockHasher
{
    /// <summary>The key chain's starting value (FNV-1a's 64-bit offset basis) for a block without a parent.</summary>
    public const ulong Root = 0xcbf29ce484222325UL;

    private const ulong Prime = 0x100000001b3UL;

    /// <summary>The key of one full block.</summary>
    /// <param name="parent">The previous block's key, or null for the first block.</param>
    /// <param name="tokens">The block's token ids.</param>
    /// <returns>The key.</returns>
    public static ulong Hash(ulong? parent, ReadOnlySpan<int> tokens)
    {
        var hash = parent is { } p ? p ^ 0x9e3779b97f4a7c15UL : Root;
        foreach (var token in tokens)
        {
            hash = (hash ^ (uint)token) * Prime;
        }

        return Finalize(hash ^ (ulong)tokens.Length);
    }

    /// <summary>Keys of every full block of <paramref name="tokens"/>; a trailing partial block has none (as in vLLM).</summary>
    /// <param name="tokens">Token ids from the start of the prompt.</param>
    /// <param name="blockSize">Tokens per block.</param>
    /// <returns>One key per full block, in order.</returns>
    public static ulong[] HashBlocks(ReadOnlySpan<int> tokens, int blockSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        var keys = new ulong[tokens.Length / blockSize];
        ulong? parent = null;
        for (var i = 0; i < keys.Length; i++)
        {
            var key = Hash(parent, tokens.Slice(i * blockSize, blockSize));
            keys[i] = key;
            parent = key;
        }

        return keys;
    }

    // SplitMix64's finalizer: spreads the FNV state over all 64 bits.
    private static ulong Finalize(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
        return z ^ (z >> 31);
    }
}
