using PdApp.Bench.Measurement;
using PdApp.Bench.Workloads;

namespace PdApp.Bench.Targets;

/// <summary>
/// The client drives disaggregation itself: the prefill call (one token, not streamed), then the
/// decode call with the original request, both with the same <c>X-Request-Id</c>; the prefill's
/// <c>kv_transfer_params</c>, when returned (NIXL), are copied into the decode body. This is what
/// a PD proxy does minus the proxy hop, so it is the baseline for the proxy's overhead. TTFT and
/// E2E count from the start of the prefill call, as the user of a proxy would see them.
/// Connectors that need nothing in the request (SharedStorage, LMCache) work as is; P2pNccl's
/// address-bearing request ids are the proxy's business and not reproduced here.
/// </summary>
internal sealed class PdDirectTarget : IBenchTarget
{
    private readonly OpenAiExchange _exchange;
    private readonly RequestShape _shape;
    private readonly Uri _prefillUrl;
    private readonly Uri _decodeUrl;

    /// <summary>Creates a pair target.</summary>
    public PdDirectTarget(OpenAiExchange exchange, RequestShape shape, Uri prefillBaseUrl, Uri decodeBaseUrl)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(prefillBaseUrl);
        ArgumentNullException.ThrowIfNull(decodeBaseUrl);
        _exchange = exchange;
        _shape = shape;
        _prefillUrl = shape.EndpointUrl(prefillBaseUrl);
        _decodeUrl = shape.EndpointUrl(decodeBaseUrl);
        Name = $"pd-direct {prefillBaseUrl.GetLeftPart(UriPartial.Authority)} -> {decodeBaseUrl.GetLeftPart(UriPartial.Authority)}";
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public Task<RequestOutcome> SendAsync(BenchRequest request, IInterTokenObserver? observer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return TimeoutScope.RunAsync(_shape.Timeout, request, _exchange.Time, (token, start) => SendPairAsync(request, observer, start, token), cancellationToken);
    }

    private async Task<RequestOutcome> SendPairAsync(BenchRequest request, IInterTokenObserver? observer, long start, CancellationToken cancellationToken)
    {
        var requestId = RequestIds.Next();
        var prefill = await _exchange.ExecuteAsync(
            _prefillUrl,
            RequestBodyWriter.WritePrefill(_shape, request),
            stream: false,
            _shape.ApiKey,
            requestId,
            start,
            request.PromptTokens,
            observer: null,
            captureKvTransferParams: true,
            cancellationToken).ConfigureAwait(false);
        if (!prefill.Outcome.Succeeded)
        {
            return prefill.Outcome with { ErrorKind = ErrorKinds.Prefill(prefill.Outcome.ErrorKind!) };
        }

        var decode = await _exchange.ExecuteAsync(
            _decodeUrl,
            RequestBodyWriter.WriteDecode(_shape, request, prefill.KvTransferParams),
            _shape.Stream,
            _shape.ApiKey,
            requestId,
            start,
            request.PromptTokens,
            observer,
            captureKvTransferParams: false,
            cancellationToken).ConfigureAwait(false);
        return decode.Outcome;
    }
}
