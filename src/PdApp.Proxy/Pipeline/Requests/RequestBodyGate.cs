using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Options;
using PdApp.Proxy.Pipeline.Options;

namespace PdApp.Proxy.Pipeline.Requests;

/// <summary>
/// Reads request bodies before admission (<c>Pd:Proxy:RequestBody</c>): a slow upload must not hold
/// one of the PD flow's concurrency slots, so it holds one of these cheaper read slots instead,
/// bounded in number, in total time and in minimum data rate. Every refusal is an OpenAI error:
/// 429 when all read slots are taken, 408 for a body too slow, 413 for one too large.
/// </summary>
public sealed class RequestBodyGate : IDisposable
{
    private readonly SemaphoreSlim _reads;
    private readonly RequestBodyOptions _options;
    private readonly long _maxBodyBytes;

    /// <summary>Creates the gate.</summary>
    /// <param name="options">The proxy options.</param>
    public RequestBodyGate(IOptions<ProxyOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value.RequestBody;
        _maxBodyBytes = options.Value.MaxRequestBodyBytes;
        _reads = new SemaphoreSlim(_options.MaxConcurrentReads, _options.MaxConcurrentReads);
    }

    /// <summary>Reads <paramref name="request"/>'s body.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">The client's cancellation.</param>
    /// <returns>The body, or the error to answer; <c>Busy</c> when no read slot was free (429).</returns>
    public async Task<(ReadOnlyMemory<byte> Body, RequestValidationError? Error, bool Busy)> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!_reads.Wait(0, CancellationToken.None))
        {
            return (default, null, true);
        }

        try
        {
            if (_options.MinBytesPerSecond > 0
                && request.HttpContext.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } rate)
            {
                rate.MinDataRate = new MinDataRate(_options.MinBytesPerSecond, TimeSpan.FromSeconds(_options.MinRateGraceSeconds));
            }

            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(TimeSpan.FromSeconds(_options.TimeoutSeconds));
            try
            {
                var (body, error) = await RequestBodyReader.ReadAsync(request, _maxBodyBytes, deadline.Token);
                return (body, error, false);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                return (default, RequestBodyReader.TooSlow(
                    $"The request body did not arrive within {_options.TimeoutSeconds} s (Pd:Proxy:RequestBody:TimeoutSeconds)."), false);
            }
        }
        finally
        {
            _reads.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _reads.Dispose();
}
