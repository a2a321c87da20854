namespace PdApp.Simulator.Scheduling;

/// <summary>A request's hold on its prompt's cached blocks; dispose it when the request ends.</summary>
internal sealed class PrefixHold : IDisposable
{
    private readonly PrefixCache _cache;
    private int _disposed;

    internal PrefixHold(PrefixCache cache, ulong[] keys, int[] tokens)
    {
        _cache = cache;
        Keys = keys;
        Tokens = tokens;
    }

    /// <summary>Block keys of the prompt's full blocks.</summary>
    public ulong[] Keys { get; }

    /// <summary>The prompt's tokens.</summary>
    public int[] Tokens { get; }

    /// <summary>Leading blocks that were cached when the request looked (its prefix cache hit).</summary>
    public int CachedBlocks { get; internal set; }

    /// <summary>Prompt tokens the hit covers.</summary>
    public int CachedTokens => CachedBlocks * _cache.BlockSize;

    /// <summary>Blocks this hold pins (leading ones).</summary>
    internal int Held { get; set; }

    /// <summary>Caches the prompt's remaining full blocks (after prefill or a KV transfer).</summary>
    public void StoreComputed() => _cache.Store(this);

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _cache.Release(this);
        }
    }
}
