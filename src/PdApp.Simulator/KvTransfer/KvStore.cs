using System.Collections.Concurrent;

namespace PdApp.Simulator.KvTransfer;

/// <summary>
/// KV records held by an instance for a peer: pushed to a consumer (P2pNccl PUT, LMCache receiver) or
/// kept by a producer until pulled (NIXL, P2pNccl GET, PyNccl). Entries expire after their lifetime
/// (NIXL: <c>VLLM_NIXL_ABORT_REQUEST_TIMEOUT</c>) and the store is bounded, oldest out first, so
/// KV never read does not accumulate. A consumer can wait for a record still in flight.
/// </summary>
internal sealed class KvStore(TimeProvider time, TimeSpan lifetime, int capacity = 100_000)
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _waiters = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _order = new();

    /// <summary>Entries held now.</summary>
    public int Count => _entries.Count;

    /// <summary>Stores a record; <paramref name="onRemoved"/> runs once when it is taken or expires.</summary>
    public void Put(string key, KvRecord record, Action? onRemoved = null)
    {
        var entry = new Entry(record, time.GetTimestamp(), onRemoved);
        if (_entries.TryGetValue(key, out var previous) && _entries.TryUpdate(key, entry, previous))
        {
            previous.Release();
        }
        else if (!_entries.TryAdd(key, entry))
        {
            _entries[key] = entry;
        }

        _order.Enqueue(key);
        Sweep();
        if (_waiters.TryRemove(key, out var waiter))
        {
            waiter.TrySetResult();
        }
    }

    /// <summary>Looks a record up; <paramref name="take"/> removes it (a read that frees the producer's blocks).</summary>
    public KvRecord? Get(string key, bool take)
    {
        Sweep();
        if (take)
        {
            if (_entries.TryRemove(key, out var taken))
            {
                taken.Release();
                return taken.Record;
            }

            return null;
        }

        return _entries.TryGetValue(key, out var entry) ? entry.Record : null;
    }

    /// <summary>Looks a record up, waiting up to <paramref name="wait"/> for it to arrive.</summary>
    public async Task<KvRecord?> WaitAsync(string key, bool take, TimeSpan wait, CancellationToken cancellationToken)
    {
        var found = Get(key, take);
        if (found is not null || wait <= TimeSpan.Zero)
        {
            return found;
        }

        var waiter = _waiters.GetOrAdd(key, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

        // Re-check: the record may have arrived between the lookup and registering the waiter.
        if (Get(key, take) is { } raced)
        {
            return raced;
        }

        try
        {
            await waiter.Task.WaitAsync(wait, time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Another waiter on the same key may have removed the signal; a last look settles it.
        }
        finally
        {
            if (!waiter.Task.IsCompleted)
            {
                _waiters.TryRemove(new KeyValuePair<string, TaskCompletionSource>(key, waiter));
            }
        }

        return Get(key, take);
    }

    /// <summary>Drops expired entries (also run periodically, so pinned KV is freed without traffic).</summary>
    public void Sweep()
    {
        while (_order.TryPeek(out var oldestKey))
        {
            if (!_entries.TryGetValue(oldestKey, out var oldest))
            {
                _order.TryDequeue(out _);
                continue;
            }

            var expired = time.GetElapsedTime(oldest.Stored) > lifetime;
            if (!expired && _entries.Count <= capacity)
            {
                return;
            }

            _order.TryDequeue(out _);
            if (_entries.TryRemove(new KeyValuePair<string, Entry>(oldestKey, oldest)))
            {
                oldest.Release();
            }
        }
    }

    private sealed class Entry(KvRecord record, long stored, Action? onRemoved)
    {
        private int _released;

        public KvRecord Record { get; } = record;

        public long Stored { get; } = stored;

        public void Release()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                onRemoved?.Invoke();
            }
        }
    }
}
