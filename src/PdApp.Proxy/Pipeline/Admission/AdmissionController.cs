using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using PdApp.Proxy.Pipeline.Options;

namespace PdApp.Proxy.Pipeline.Admission;

/// <summary>
/// Admission control in front of the PD flow, as vLLM's example proxy does with
/// <c>request_queue.py</c> (a fixed number of requests in flight, a bounded FIFO queue with a
/// timeout) and <c>rate_limiter.py</c> (a token bucket of requests per second), built on
/// <see cref="System.Threading.RateLimiting"/>. Unlike the example, a refused request gets 429
/// with <c>Retry-After</c> instead of waiting forever or 503.
/// </summary>
public sealed class AdmissionController : IDisposable
{
    private readonly ConcurrencyLimiter _concurrency;
    private readonly TokenBucketRateLimiter? _rate;
    private readonly AdmissionOptions _options;

    /// <summary>Creates the limiters from <c>Pd:Proxy:Admission</c>.</summary>
    /// <param name="options">The options.</param>
    public AdmissionController(IOptions<ProxyOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value.Admission;
        _concurrency = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = _options.MaxConcurrentRequests,
            QueueLimit = _options.MaxQueueLength,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });

        if (_options.RequestsPerSecond > 0)
        {
            // Refilled every 100 ms so a steady rate is admitted smoothly rather than in bursts.
            var period = TimeSpan.FromMilliseconds(100);
            var perPeriod = Math.Max(1, (int)Math.Round(_options.RequestsPerSecond * period.TotalSeconds));
            _rate = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = _options.Burst > 0 ? _options.Burst : Math.Max(1, (int)Math.Ceiling(_options.RequestsPerSecond)),
                TokensPerPeriod = perPeriod,
                ReplenishmentPeriod = TimeSpan.FromSeconds(perPeriod / _options.RequestsPerSecond),
                QueueLimit = 0,
                AutoReplenishment = true,
            });
        }
    }

    /// <summary>Waits for a slot (bounded by the queue timeout) or refuses.</summary>
    /// <param name="cancellationToken">The client's cancellation.</param>
    /// <returns>The admission; dispose it when the request ends.</returns>
    /// <exception cref="OperationCanceledException">The client went away while queued.</exception>
    public async ValueTask<AdmissionResult> AdmitAsync(CancellationToken cancellationToken)
    {
        if (_rate is not null)
        {
            using var token = _rate.AttemptAcquire();
            if (!token.IsAcquired)
            {
                var retryAfter = token.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                return AdmissionResult.Rejected(AdmissionRejection.RateLimited, retryAfter);
            }
        }

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

    /// <inheritdoc />
    public void Dispose()
    {
        _concurrency.Dispose();
        _rate?.Dispose();
    }
}
