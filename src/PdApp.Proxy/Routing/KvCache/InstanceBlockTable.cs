namespace PdApp.Proxy.Routing.KvCache;

/// <summary>
/// One instance's view in the index: engine block hash -> PdApp block key for every block it
/// reported stored, in arrival order so the oldest can be forgotten past the bound. Engine hashes
/// are whatever vLLM publishes (its own hash algorithm); keys are recomputed from the events'
/// token ids, so they match the keys the proxy computes for requests. Not thread-safe: the
/// index's write lock guards it.
/// </summary>
internal sealed class InstanceBlockTable(int slot)
{
    private readonly Dictionary<ulong, ulong> _keyByEngineHash = new();
    private readonly Queue<ulong> _order = new();

    /// <summary>The instance's bit in the index's holder masks.</summary>
    public int Slot { get; } = slot;

    /// <summary>Blocks indexed.</summary>
    public int Count => _keyByEngineHash.Count;

    /// <summary>When the last batch arrived, or null before the first.</summary>
    public DateTimeOffset? LastEventAt { get; set; }

    /// <summary>The key of an engine hash.</summary>
    public bool TryGetKey(ulong engineHash, out ulong key) => _keyByEngineHash.TryGetValue(engineHash, out key);

    /// <summary>Records a block; false when it was already known.</summary>
    public bool Add(ulong engineHash, ulong key)
    {
        if (!_keyByEngineHash.TryAdd(engineHash, key))
        {
            return false;
        }

        _order.Enqueue(engineHash);
        return true;
    }

    /// <summary>Forgets a block; returns its key.</summary>
    public bool Remove(ulong engineHash, out ulong key) => _keyByEngineHash.Remove(engineHash, out key);

    /// <summary>Takes the oldest block still indexed, to keep within the bound.</summary>
    public bool TryTakeOldest(out ulong engineHash, out ulong key)
    {
        while (_order.TryDequeue(out engineHash))
        {
            if (_keyByEngineHash.Remove(engineHash, out key))
            {
                return true;
            }
        }

        key = 0;
        return false;
    }

    /// <summary>Every key indexed (to clear the instance's bits).</summary>
    public IEnumerable<ulong> Keys => _keyByEngineHash.Values;

    /// <summary>Forgets everything.</summary>
    public void Clear()
    {
        _keyByEngineHash.Clear();
        _order.Clear();
    }

    /// <summary>Drops order entries of blocks removed since, when they pile up (blocks stored and evicted over and over).</summary>
    public void CompactIfNeeded()
    {
        if (_order.Count <= 2 * Math.Max(64, _keyByEngineHash.Count))
        {
            return;
        }

        var live = _order.Where(_keyByEngineHash.ContainsKey).Distinct().ToArray();
        _order.Clear();
        foreach (var hash in live)
        {
            _order.Enqueue(hash);
        }
    }
}
