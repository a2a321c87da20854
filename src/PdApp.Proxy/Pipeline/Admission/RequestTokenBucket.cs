namespace PdApp.Proxy.Pipeline.Admission;

/// <summary>
/// The token bucket of <c>Pd:Proxy:Admission:RequestsPerSecond</c>: refilled continuously at the
/// rate up to the burst, on a <see cref="TimeProvider"/> (so tests drive it with a fake clock).
/// <see cref="TryTake"/> takes a token now or says when one will be there;
/// <see cref="WaitAsync"/> queues for one, oldest first, with a bounded queue. A waiter that is
/// cancelled leaves the queue without taking a token; a token is consumed, never given back.
/// </summary>
internal sealed class RequestTokenBucket : IDisposable
{
    // Refill arithmetic is in doubles; this absorbs rounding so a token due at T is there at T.
    private const double Epsilon = 1e-9;

    private readonly object _lock = new();
    private readonly LinkedList<TaskCompletionSource> _waiters = new();
    private readonly TimeProvider _time;
    private readonly double _rate;
    private readonly double _capacity;
    private readonly int _queueLimit;
    private readonly ITimer _wake;
    private double _tokens;
    private long _refilledAt;

    /// <summary>Creates a full bucket.</summary>
    /// <param name="time">The clock.</param>
    /// <param name="tokensPerSecond">The refill rate.</param>
    /// <param name="capacity">The burst: most tokens held.</param>
    /// <param name="queueLimit">Most requests waiting at once.</param>
    public RequestTokenBucket(TimeProvider time, double tokensPerSecond, int capacity, int queueLimit)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokensPerSecond);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        ArgumentOutOfRangeException.ThrowIfNegative(queueLimit);
        _time = time;
        _rate = tokensPerSecond;
        _capacity = capacity;
        _queueLimit = queueLimit;
        _tokens = capacity;
        _refilledAt = time.GetTimestamp();
        _wake = time.CreateTimer(static state => ((RequestTokenBucket)state!).ServeWaiters(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Tokens in the bucket now (whole ones).</summary>
    public int AvailableTokens
    {
        get
        {
            lock (_lock)
            {
                Refill();
                return (int)Math.Floor(_tokens + Epsilon);
            }
        }
    }

    /// <summary>Requests waiting for a token now.</summary>
    public int Waiting
    {
        get
        {
            lock (_lock)
            {
                return _waiters.Count;
            }
        }
    }

    /// <summary>Takes a token if one is free and nobody waits ahead.</summary>
    /// <param name="retryAfter">When refused: when a token will be free for a newcomer.</param>
    /// <returns>Whether a token was taken.</returns>
    public bool TryTake(out TimeSpan retryAfter)
    {
        lock (_lock)
        {
            Refill();
            if (_waiters.Count == 0 && _tokens + Epsilon >= 1)
            {
                _tokens = Math.Max(0, _tokens - 1);
                retryAfter = TimeSpan.Zero;
                return true;
            }

            retryAfter = UntilTokens(_waiters.Count + 1);
            return false;
        }
    }

    /// <summary>
    /// Takes a token, waiting in line for one when none is free. Refused at once (with when to
    /// retry) when the queue is full.
    /// </summary>
    /// <param name="cancellationToken">Ends the wait; the waiter leaves the queue without a token.</param>
    /// <returns>Whether a token was taken, and when refused, when to retry.</returns>
    /// <exception cref="OperationCanceledException">Cancelled while waiting.</exception>
    public async ValueTask<(bool Taken, TimeSpan RetryAfter)> WaitAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        TaskCompletionSource waiter;
        LinkedListNode<TaskCompletionSource> node;
        lock (_lock)
        {
            if (TryTake(out var retryAfter))
            {
                return (true, TimeSpan.Zero);
            }

            if (_waiters.Count >= _queueLimit)
            {
                return (false, retryAfter);
            }

            waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            node = _waiters.AddLast(waiter);
            if (_waiters.Count == 1)
            {
                ScheduleWake();
            }
        }

        await using (cancellationToken.Register(() => Leave(node, cancellationToken)).ConfigureAwait(false))
        {
            await waiter.Task.ConfigureAwait(false);
        }

        return (true, TimeSpan.Zero);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _wake.Dispose();
        lock (_lock)
        {
            foreach (var waiter in _waiters)
            {
                waiter.TrySetException(new ObjectDisposedException(nameof(RequestTokenBucket)));
            }

            _waiters.Clear();
        }
    }

    private void Leave(LinkedListNode<TaskCompletionSource> node, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            // Still in line: it took nothing. Already served: the token is its own.
            if (node.List is null)
            {
                return;
            }

            var wasFirst = node == _waiters.First;
            _waiters.Remove(node);
            if (wasFirst)
            {
                ScheduleWake();
            }
        }

        node.Value.TrySetCanceled(cancellationToken);
    }

    private void ServeWaiters()
    {
        var served = new List<TaskCompletionSource>();
        lock (_lock)
        {
            Refill();
            while (_waiters.First is { } first && _tokens + Epsilon >= 1)
            {
                _tokens = Math.Max(0, _tokens - 1);
                _waiters.RemoveFirst();
                served.Add(first.Value);
            }

            ScheduleWake();
        }

        foreach (var waiter in served)
        {
            waiter.TrySetResult();
        }
    }

    /// <summary>Arms the timer for when the first waiter's token is due (under the lock).</summary>
    private void ScheduleWake() =>
        _wake.Change(_waiters.Count == 0 ? Timeout.InfiniteTimeSpan : UntilTokens(1), Timeout.InfiniteTimeSpan);

    /// <summary>How long until <paramref name="count"/> tokens have accrued (under the lock, after a refill).</summary>
    private TimeSpan UntilTokens(int count)
    {
        var missing = count - _tokens;
        return missing <= Epsilon ? TimeSpan.Zero : TimeSpan.FromTicks((long)Math.Ceiling(missing / _rate * TimeSpan.TicksPerSecond));
    }

    private void Refill()
    {
        var now = _time.GetTimestamp();
        var elapsed = _time.GetElapsedTime(_refilledAt, now);
        _refilledAt = now;
        _tokens = Math.Min(_capacity, _tokens + (elapsed.TotalSeconds * _rate));
    }
}
