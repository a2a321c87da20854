using System.Collections.Concurrent;
using System.Numerics;
using Microsoft.Extensions.Options;
using PdApp.Protocol.KvEvents;

namespace PdApp.Proxy.Routing.KvCache;

/// <summary>
/// Block key -> instances holding it, built from the instances' KV events (llm-d's kv-cache index
/// design): each <c>BlockStored</c> is re-keyed with <see cref="KvBlockHasher"/> from its token ids and
/// its parent's key, so the proxy matches a request's keys whatever hash the engine uses;
/// <c>BlockRemoved</c> is resolved through the instance's engine hash -> key table. Holders are a
/// 64-bit mask (one bit per instance, at most 64 instances indexed), so a lookup walks the
/// request's keys once with one dictionary read each, lock-free. Writes take one lock.
/// </summary>
internal sealed class KvBlockIndex
{
    /// <summary>Instances an index can hold (one bit each).</summary>
    public const int MaxInstances = 64;

    private readonly object _write = new();
    private readonly ConcurrentDictionary<ulong, ulong> _holders = new();
    private readonly ConcurrentDictionary<string, InstanceBlockTable> _tables = new(StringComparer.Ordinal);
    private readonly int _blockSize;
    private readonly int _maxBlocksPerInstance;
    private readonly TimeProvider _time;
    private readonly KvCacheMeter? _meter;
    private readonly ConcurrentDictionary<string, long> _routedAt = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<ulong, Pending> _pending = new();
    private readonly ConcurrentQueue<(ulong[] Keys, long ExpiresAt)> _pendingExpiry = new();
    private readonly long _pendingTicks;
    private ulong _usedSlots;

    /// <summary>Creates an empty index.</summary>
    public KvBlockIndex(IOptions<KvCacheOptions> options, TimeProvider time, KvCacheMeter? meter = null)
    {
        _blockSize = options.Value.BlockSize;
        _maxBlocksPerInstance = options.Value.MaxBlocksPerInstance;
        _time = time;
        _meter = meter;
        _pendingTicks = (long)(options.Value.PendingSeconds * TimeSpan.TicksPerSecond);
        meter?.ObserveIndex(this);
    }

    /// <summary>Tokens per block.</summary>
    public int BlockSize => _blockSize;

    /// <summary>Distinct block keys indexed.</summary>
    public int Keys => _holders.Count;

    /// <summary>Blocks indexed, summed over instances.</summary>
    public long Blocks => _tables.Values.Sum(t => (long)t.Count);

    /// <summary>Instances with a table.</summary>
    public int Instances => _tables.Count;

    /// <summary>Blocks indexed for <paramref name="instance"/>.</summary>
    public int BlocksOf(string instance) => _tables.TryGetValue(instance, out var table) ? table.Count : 0;

    /// <summary>When <paramref name="instance"/>'s last batch arrived, or null.</summary>
    public DateTimeOffset? LastEventAt(string instance) => _tables.TryGetValue(instance, out var table) ? table.LastEventAt : null;

    /// <summary>When a request was last routed to <paramref name="instance"/> by the <c>KvAware</c> policy, or null.</summary>
    public DateTimeOffset? LastRoutedAt(string instance) =>
        _routedAt.TryGetValue(instance, out var ticks) ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    /// <summary>Notes that a request was routed to <paramref name="instance"/> (staleness: requests sent, no events back).</summary>
    public void NoteRouted(string instance, DateTimeOffset now) => _routedAt[instance] = now.UtcTicks;

    /// <summary>Block keys counted as held on some instance because a request was just sent there.</summary>
    public int PendingKeys => _pending.Count;

    /// <summary>
    /// Counts <paramref name="keys"/> as held by <paramref name="instance"/> for <c>PendingSeconds</c>
    /// from <paramref name="now"/>: the request just sent there will compute or receive them, and
    /// its KV events only arrive once it has. Only instances that have published events are
    /// noted (the others are not routed on their caches at all). Expired notes are dropped here.
    /// The index keeps a reference to <paramref name="keys"/> (a request's block keys, never changed
    /// after hashing) until the notes expire, so a decision allocates nothing for keys already noted:
    /// one expiry entry per call holds the array, and a key's note is updated in place.
    /// </summary>
    public void NotePending(string instance, ulong[] keys, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (_pendingTicks <= 0 || keys.Length == 0 || !_tables.TryGetValue(instance, out var table))
        {
            return;
        }

        var nowTicks = now.UtcTicks;
        while (_pendingExpiry.TryPeek(out var oldest) && oldest.ExpiresAt <= nowTicks && _pendingExpiry.TryDequeue(out oldest))
        {
            foreach (var key in oldest.Keys)
            {
                // Removed only when not refreshed since (a refreshed note expires later).
                if (_pending.TryGetValue(key, out var note) && note.ExpiresAt <= nowTicks)
                {
                    _pending.TryRemove(KeyValuePair.Create(key, note));
                }
            }
        }

        var bit = 1UL << table.Slot;
        var expires = nowTicks + _pendingTicks;
        foreach (var key in keys)
        {
            if (_pending.TryGetValue(key, out var note))
            {
                note.Refresh(bit, expires, nowTicks);
            }
            else
            {
                _pending.GetOrAdd(key, static (_, state) => new Pending(state.Bit, state.Expires), (Bit: bit, Expires: expires))
                    .Refresh(bit, expires, nowTicks);
            }
        }

        _pendingExpiry.Enqueue((keys, expires));
    }

    /// <summary>Applies a batch from <paramref name="instance"/>.</summary>
    public void Apply(string instance, KvEventBatch batch)
    {
        lock (_write)
        {
            if (GetOrAddTable(instance) is not { } table)
            {
                return;
            }

            table.LastEventAt = _time.GetUtcNow();
            foreach (var kvEvent in batch.Events)
            {
                switch (kvEvent)
                {
                    case BlockStored stored:
                        Store(table, stored);
                        break;
                    case BlockRemoved removed:
                        foreach (var hash in removed.BlockHashes)
                        {
                            if (table.Remove(hash, out var key))
                            {
                                ClearBit(key, table.Slot);
                                ClearPending(key, table.Slot);
                            }
                        }

                        break;
                    case AllBlocksCleared:
                        ClearTable(table);
                        break;
                }

                _meter?.EventApplied(kvEvent);
            }

            table.CompactIfNeeded();
        }
    }

    /// <summary>Forgets <paramref name="instance"/>'s blocks (it restarted: its cache is empty) but keeps its slot.</summary>
    public void Clear(string instance)
    {
        lock (_write)
        {
            if (_tables.TryGetValue(instance, out var table))
            {
                ClearTable(table);
            }
        }
    }

    /// <summary>Forgets <paramref name="instance"/> entirely (removed from the registry).</summary>
    public void Drop(string instance)
    {
        lock (_write)
        {
            _routedAt.TryRemove(instance, out _);
            if (_tables.TryRemove(instance, out var table))
            {
                ClearTable(table);
                _usedSlots &= ~(1UL << table.Slot);
                // A later instance may take the slot: it must not inherit notes of requests sent to this one.
                _pending.Clear();
            }
        }
    }

    /// <summary>
    /// The longest run of leading <paramref name="keys"/> each instance holds, written to
    /// <paramref name="matched"/> by the instances' order in <paramref name="instances"/> (0 for an
    /// instance without events).
    /// </summary>
    public void Match(ReadOnlySpan<ulong> keys, IReadOnlyList<UpstreamInstance> instances, Span<int> matched)
    {
        Span<int> bySlot = stackalloc int[MaxInstances];
        bySlot.Clear();
        var alive = Volatile.Read(ref _usedSlots);
        var withPending = _pendingTicks > 0 && !_pending.IsEmpty;
        var nowTicks = withPending ? _time.GetUtcNow().UtcTicks : 0;
        var depth = 0;
        for (; depth < keys.Length && alive != 0; depth++)
        {
            var holders = _holders.TryGetValue(keys[depth], out var mask) ? mask : 0;
            if (withPending && _pending.TryGetValue(keys[depth], out var note) && note.ExpiresAt > nowTicks)
            {
                holders |= note.Holders;
            }

            var dropped = alive & ~holders;
            while (dropped != 0)
            {
                var slot = BitOperations.TrailingZeroCount(dropped);
                bySlot[slot] = depth;
                dropped &= dropped - 1;
            }

            alive &= holders;
        }

        while (alive != 0)
        {
            var slot = BitOperations.TrailingZeroCount(alive);
            bySlot[slot] = depth;
            alive &= alive - 1;
        }

        for (var i = 0; i < instances.Count && i < matched.Length; i++)
        {
            matched[i] = _tables.TryGetValue(instances[i].Name, out var table) ? bySlot[table.Slot] : 0;
        }
    }

    /// <summary>
    /// Instances (bits) a request was just sent to with a block, until <see cref="ExpiresAt"/> (UTC ticks);
    /// updated in place. The two fields are written without a lock: a reader may see a new holder with
    /// the old expiry or the reverse for an instant, which at worst misses or keeps one pending note
    /// for one decision (notes are a hint until the instance's own events arrive).
    /// </summary>
    private sealed class Pending(ulong holders, long expiresAt)
    {
        private long _holders = (long)holders;
        private long _expiresAt = expiresAt;

        public ulong Holders => (ulong)Volatile.Read(ref _holders);

        public long ExpiresAt => Volatile.Read(ref _expiresAt);

        /// <summary>Adds <paramref name="bit"/> (dropping holders whose note had expired by <paramref name="now"/>) and extends the expiry.</summary>
        public void Refresh(ulong bit, long expires, long now)
        {
            if (ExpiresAt <= now)
            {
                Volatile.Write(ref _holders, (long)bit);
            }
            else
            {
                Interlocked.Or(ref _holders, (long)bit);
            }

            Volatile.Write(ref _expiresAt, Math.Max(expires, ExpiresAt));
        }

        /// <summary>Drops <paramref name="bit"/> (the instance's own events supersede the note).</summary>
        public void Clear(ulong bit) => Interlocked.And(ref _holders, ~(long)bit);
    }

    private InstanceBlockTable? GetOrAddTable(string instance)
    {
        if (_tables.TryGetValue(instance, out var table))
        {
            return table;
        }

        var free = ~_usedSlots;
        if (free == 0)
        {
            _meter?.InstanceNotIndexed();
            return null;
        }

        var slot = BitOperations.TrailingZeroCount(free);
        _usedSlots |= 1UL << slot;
        table = new InstanceBlockTable(slot);
        _tables[instance] = table;
        return table;
    }

    private void Store(InstanceBlockTable table, BlockStored stored)
    {
        if (stored.BlockSize != _blockSize || stored.TokenIds.Count < stored.BlockHashes.Count * _blockSize)
        {
            _meter?.EventIgnored("block_size");
            return;
        }

        ulong? parent = null;
        if (stored.ParentBlockHash is { } parentHash)
        {
            if (!table.TryGetKey(parentHash, out var parentKey))
            {
                // The parent was never seen (evicted from the index, or missed): these blocks cannot be
                // matched from a prompt's start, so they are not indexed.
                _meter?.EventIgnored("unknown_parent");
                return;
            }

            parent = parentKey;
        }

        var tokens = stored.TokenIds as int[] ?? [.. stored.TokenIds];
        for (var i = 0; i < stored.BlockHashes.Count; i++)
        {
            var key = KvBlockHasher.Hash(parent, tokens.AsSpan(i * _blockSize, _blockSize));
            if (table.Add(stored.BlockHashes[i], key))
            {
                SetBit(key, table.Slot);
            }

            parent = key;
        }

        while (table.Count > _maxBlocksPerInstance && table.TryTakeOldest(out _, out var oldKey))
        {
            ClearBit(oldKey, table.Slot);
            _meter?.BlockForgotten();
        }
    }

    /// <summary>The instance's own events about <paramref name="key"/> supersede a note of a request sent there.</summary>
    private void ClearPending(ulong key, int slot)
    {
        if (_pending.TryGetValue(key, out var note) && (note.Holders & (1UL << slot)) != 0)
        {
            note.Clear(1UL << slot);
        }
    }

    private void ClearTable(InstanceBlockTable table)
    {
        foreach (var key in table.Keys)
        {
            ClearBit(key, table.Slot);
        }

        foreach (var (key, _) in _pending)
        {
            ClearPending(key, table.Slot);
        }

        table.Clear();
    }

    private void SetBit(ulong key, int slot) => _holders.AddOrUpdate(key, 1UL << slot, (_, mask) => mask | (1UL << slot));

    private void ClearBit(ulong key, int slot)
    {
        if (_holders.TryGetValue(key, out var mask))
        {
            var left = mask & ~(1UL << slot);
            if (left == 0)
            {
                _holders.TryRemove(key, out _);
            }
            else
            {
                _holders[key] = left;
            }
        }
    }
}
