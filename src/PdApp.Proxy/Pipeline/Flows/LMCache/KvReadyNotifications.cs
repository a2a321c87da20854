using System.Collections.Concurrent;

namespace PdApp.Proxy.Pipeline.Flows.LMCache;

/// <summary>
/// The requests waiting for LMCache senders' "KV ready" notifications, keyed by the <c>req_id</c> the proxy put
/// in their <c>disagg_spec</c>. The listener signals; a hand-off registers before prefill is sent (the
/// notification may beat prefill's HTTP response) and unregisters when done. A notification for an id nobody
/// waits for (late, duplicated, forged) changes nothing and is counted.
/// </summary>
public sealed class KvReadyNotifications
{
    private readonly ConcurrentDictionary<string, Waiter> _waiters = new(StringComparer.Ordinal);
    private long _unmatched;

    /// <summary>Notifications that matched no waiting request.</summary>
    public long Unmatched => Interlocked.Read(ref _unmatched);

    /// <summary>Requests waiting now.</summary>
    public int Pending => _waiters.Count;

    /// <summary>Registers a request expecting <paramref name="ranks"/> notifications.</summary>
    /// <param name="requestId">The disagg_spec <c>req_id</c> (unique, made by the proxy).</param>
    /// <param name="ranks">Notifications expected, one per tensor-parallel rank.</param>
    /// <returns>The waiter; dispose to unregister.</returns>
    public Waiter Register(string requestId, int ranks)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ranks);
        var waiter = new Waiter(this, requestId, ranks);
        if (!_waiters.TryAdd(requestId, waiter))
        {
            throw new InvalidOperationException($"A request with disagg_spec req_id '{requestId}' is already waiting.");
        }

        return waiter;
    }

    /// <summary>Records one notification.</summary>
    /// <param name="requestId">Its <c>req_id</c>.</param>
    /// <returns>True when a waiting request took it.</returns>
    public bool Signal(string requestId)
    {
        ArgumentNullException.ThrowIfNull(requestId);
        if (_waiters.TryGetValue(requestId, out var waiter) && waiter.Signal())
        {
            return true;
        }

        Interlocked.Increment(ref _unmatched);
        return false;
    }

    /// <summary>One request's wait.</summary>
    public sealed class Waiter : IDisposable
    {
        private readonly KvReadyNotifications _owner;
        private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _remaining;

        internal Waiter(KvReadyNotifications owner, string requestId, int ranks)
        {
            _owner = owner;
            RequestId = requestId;
            _remaining = ranks;
        }

        /// <summary>The <c>req_id</c>.</summary>
        public string RequestId { get; }

        /// <summary>Completes when every rank notified.</summary>
        public Task Ready => _ready.Task;

        /// <inheritdoc/>
        public void Dispose() => _owner._waiters.TryRemove(new KeyValuePair<string, Waiter>(RequestId, this));

        internal bool Signal()
        {
            var remaining = Interlocked.Decrement(ref _remaining);
            if (remaining == 0)
            {
                _ready.TrySetResult();
            }

            return remaining >= 0;
        }
    }
}
