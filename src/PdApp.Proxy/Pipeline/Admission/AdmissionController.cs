using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using PdApp.Proxy.Pipeline.Options;

namespace PdApp.Proxy.Pipeline.Admission;

/// <summary>
/// Admission control in front of the PD flow, as vLLM's example proxy does with
/// <c>request_queue.py</c> (a fixed number of requests in flight, a bounded FIFO queue with a
/// timeout) and <c>rate_limiter.py</c> (a token bucket of requests per second), built on
/// <see cref="System.Threading.RateLimiting"/>'s <see cref="ConcurrencyLimiter"/> and
/// <see cref="RequestTokenBucket"/> (the framework's token bucket refills from the system clock,
/// so a <see cref="TimeProvider"/> cannot drive it). One order: first a rate token, then a
/// concurrency slot, so a request waiting for a token never holds a slot. Over the rate, a request gets 429
/// with <c>Retry-After</c> at once (<c>RateLimitMode=reject</c>) or waits in FIFO order for a
/// token up to <c>RateLimitMaxWaitSeconds</c> (<c>RateLimitMode=wait</c>) instead of waiting
/// forever as the example does. The bucket runs on a <see cref="TimeProvider"/>.
/// </summary>
public sealed class AdmissionController : IDisposable
{
    private readonly ConcurrencyLimiter _concurrency;
    private readonly RequestTokenBucket? _rate;
    private readonly AdmissionOptions _options;
    private readonly TimeProvider _time;

    /// <summary>Creates the limiters from <c>Pd:Proxy:Admission</c>.</summary>
    /// <param name="options">The options.</param>
    /// <param name="time">The clock that refills the token bucket and bounds a wait for a token.</param>
    public AdmissionController(IOptions<ProxyOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        _options = options.Value.Admission;
        _time = time;
        _concurrency = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = _options.MaxConcurrentRequests,
            QueueLimit = _options.MaxQueueLength,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });

        if (_options.RequestsPerSecond > 0)
        {
            // In wait mode no more requests queue than tokens arrive within the wait bound: one
            // further back would surely wait longer, so it is refused at once.
            var queueLimit = _options.WaitsForRateLimit
                ? (int)Math.Min(int.MaxValue, Math.Ceiling(_options.RequestsPerSecond * _options.RateLimitMaxWaitSeconds))
                : 0;
            _rate = new RequestTokenBucket(
                time,
                _options.RequestsPerSecond,
                _options.Burst > 0 ? _options.Burst : Math.Max(1, (int)Math.Ceiling(_options.RequestsPerSecond)),
                queueLimit);
        }
    }

    /// <summary>Tokens now in the bucket, or <see langword="null"/> without a rate limit.</summary>
    internal int? AvailableTokens => _rate?.AvailableTokens;

    /// <summary>Requests now waiting for a token (wait mode), or 0.</summary>
    internal int WaitingForToken => _rate?.Waiting ?? 0;

    /// <summary>Waits for a slot (bounded by the queue timeout) or refuses.</summary>
    /// <param name="cancellationToken">The client's cancellation.</param>
    /// <returns>The admission; dispose it when the request ends.</returns>
    /// <exception cref="OperationCanceledException">The client went away while queued.</exception>
    public async ValueTask<AdmissionResult> AdmitAsync(CancellationToken cancellationToken)
    {
        if (_rate is not null)
        {
            var refused = _options.WaitsForRateLimit
                ? await WaitForTokenAsync(_rate, cancellationToken).ConfigureAwait(false)
                : TakeToken(_rate);
            if (refused is not null)
            {
                return refused;
            }
        }

        // Fast path: a free slot and nobody queued (the limiter never lets a request pass the
        // queue), so no timer and no linked token for the common case.
        var free = _concurrency.AttemptAcquire(1);
        if (free.IsAcquired)
        {
            return AdmissionResult.Admitted(free);
        }

        free.Dispose();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(_options.QueueTimeoutSeconds));
        RateLimitLease slot;
        try
        {
            slot = await _concurrency.AcquireAsync(1, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return AdmissionResult.Rejected(AdmissionRejection.QueueTimeout, TimeSpan.FromSeconds(_options.RetryAfterSeconds));
        }

        if (!slot.IsAcquired)
        {
            slot.Dispose();
            return AdmissionResult.Rejected(AdmissionRejection.QueueFull, TimeSpan.FromSeconds(_options.RetryAfterSeconds));
        }

        return AdmissionResult.Admitted(slot);
    }

    /// <summary>Reject mode: a token now, or 429 with when one will be free.</summary>
    private static AdmissionResult? TakeToken(RequestTokenBucket rate) =>
        rate.TryTake(out var retryAfter) ? null : AdmissionResult.Rejected(AdmissionRejection.RateLimited, retryAfter);

    /// <summary>
    /// Wait mode: queues for a token (FIFO) up to <c>RateLimitMaxWaitSeconds</c>; a full queue is
    /// refused at once. A client that leaves while queued is removed from the queue without
    /// taking a token.
    /// </summary>
    /// <exception cref="OperationCanceledException">The client went away while waiting.</exception>
    private async ValueTask<AdmissionResult?> WaitForTokenAsync(RequestTokenBucket rate, CancellationToken cancellationToken)
    {
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(_options.RateLimitMaxWaitSeconds), _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, bound.Token);
        try
        {
            var (taken, retryAfter) = await rate.WaitAsync(linked.Token).ConfigureAwait(false);
            return taken ? null : AdmissionResult.Rejected(AdmissionRejection.RateLimited, retryAfter);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return AdmissionResult.Rejected(AdmissionRejection.RateLimited, TimeSpan.FromSeconds(_options.RetryAfterSeconds));
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _concurrency.Dispose();
        _rate?.Dispose();
    }
}
