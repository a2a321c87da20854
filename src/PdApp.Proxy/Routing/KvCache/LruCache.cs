namespace PdApp.Proxy.Routing.KvCache;

/// <summary>
/// A thread-safe least-recently-used map bounded twice: by entries and by an estimate of the bytes its values
/// hold. Adding past either bound evicts the least recently used entries first, so a burst of one-off prompts
/// pushes out what is stale rather than clearing what is hot.
/// </summary>
/// <typeparam name="TValue">The values.</typeparam>
internal sealed class LruCache<TValue>
    where TValue : class
{
    private readonly Lock _gate = new();
    private readonly Dictionary<UInt128, LinkedListNode<(UInt128 Key, TValue Value, long Cost)>> _map = [];
    private readonly LinkedList<(UInt128 Key, TValue Value, long Cost)> _order = new(); // most recent first
    private readonly Func<TValue, long> _cost;
    private long _bytes;
    private long _evictions;

    /// <summary>Creates the cache.</summary>
    /// <param name="maxEntries">Entries kept at most (0: nothing is kept).</param>
    /// <param name="maxBytes">Estimated bytes kept at most.</param>
    /// <param name="cost">The estimated bytes of a value, its key and bookkeeping included.</param>
    public LruCache(int maxEntries, long maxBytes, Func<TValue, long> cost)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxEntries);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        MaxEntries = maxEntries;
        MaxBytes = maxBytes;
        _cost = cost;
    }

    /// <summary>The entry bound.</summary>
    public int MaxEntries { get; }

    /// <summary>The byte bound.</summary>
    public long MaxBytes { get; }

    /// <summary>Entries held.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _map.Count;
            }
        }
    }

    /// <summary>Estimated bytes held.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Entries evicted so far.</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>Looks up <paramref name="key"/> and marks it most recently used.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value, when found.</param>
    /// <returns>Whether it was found.</returns>
    public bool TryGet(UInt128 key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TValue? value)
    {
        lock (_gate)
        {
            if (_map.TryGetValue(key, out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                value = node.Value.Value;
                return true;
            }
        }

        value = null;
        return false;
    }

    /// <summary>Adds or replaces <paramref name="key"/>, then evicts the least recently used entries beyond the bounds.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <returns>How many entries were evicted.</returns>
    public int Set(UInt128 key, TValue value)
    {
        var cost = _cost(value);
        if (MaxEntries == 0 || cost > MaxBytes)
        {
            return 0; // Never kept: it alone would exceed the bounds.
        }

        var evicted = 0;
        lock (_gate)
        {
            if (_map.Remove(key, out var old))
            {
                _order.Remove(old);
                _bytes -= old.Value.Cost;
            }

            _map[key] = _order.AddFirst((key, value, cost));
            _bytes += cost;
            while (_map.Count > MaxEntries || _bytes > MaxBytes)
            {
                var last = _order.Last!;
                _order.RemoveLast();
                _map.Remove(last.Value.Key);
                _bytes -= last.Value.Cost;
                evicted++;
            }
        }

        Interlocked.Add(ref _evictions, evicted);
        return evicted;
    }
}
