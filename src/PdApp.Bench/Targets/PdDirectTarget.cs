using PdApp.Bench.Measurement;
using PdApp.Bench.Workloads;
using PdApp.Protocol.Connectors;

namespace PdApp.Bench.Targets;

/// <summary>
/// The client drives disaggregation itself: the prefill call (one token, not streamed), then the
/// decode call with the original request, both with the same <c>X-Request-Id</c>. The connector's
/// traits (<see cref="ConnectorCatalog"/>) say what else goes into each body, as the proxy adds it:
/// NIXL's prefill asks for a remote decode (<c>kv_transfer_params.do_remote_decode</c>) and the
/// <c>kv_transfer_params</c> it returns are copied into the decode body. This is what a PD proxy
/// does minus the proxy hop, so it is the baseline for the proxy's overhead. TTFT and E2E count
/// from the start of the prefill call, as the user of a proxy would see them. Connectors whose
/// request ids name the peers (P2pNccl) are the proxy's business and rejected on the command line.
/// </summary>
internal sealed class PdDirectTarget : IBenchTarget
{
    private readonly OpenAiExchange _exchange;
    private readonly RequestShape _shape;
    private readonly Uri _prefillUrl;
    private readonly Uri _decodeUrl;
    private readonly IReadOnlyList<KvRequestField> _prefillFields;
    private readonly string? _decodeField;

    /// <summary>Creates a pair target.</summary>
    public PdDirectTarget(OpenAiExchange exchange, RequestShape shape, Uri prefillBaseUrl, Uri decodeBaseUrl, ResolvedConnector connector)
    {
        ArgumentNullException.ThrowIfNull(connector);
        if (connector.RequestIdNamesPeers || connector.PrefillNotifiesProxy || connector.DecodeBodyFields.Count > 1)
        {
            throw new ArgumentException($"--pd-direct cannot drive {connector.Connector.Name}.", nameof(connector));
        }

        _prefillFields = connector.PrefillBodyFields;
        _decodeField = connector.DecodeBodyFields.Count == 1 ? connector.DecodeBodyFields[0] : null;
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
            RequestBodyWriter.WritePrefill(_shape, request, _prefillFields),
            stream: false,
            _shape.ApiKey,
            requestId,
            start,
            request.PromptTokens,
            observer: null,
            captureField: _decodeField,
            cancellationToken).ConfigureAwait(false);
        if (!prefill.Outcome.Succeeded)
        {
            return prefill.Outcome with { ErrorKind = ErrorKinds.Prefill(prefill.Outcome.ErrorKind!) };
        }

        var decode = await _exchange.ExecuteAsync(
            _decodeUrl,
            RequestBodyWriter.WriteDecode(_shape, request, _decodeField, prefill.CapturedField),
            _shape.Stream,
            _shape.ApiKey,
            requestId,
            start,
            request.PromptTokens,
            observer,
            captureField: null,
            cancellationToken).ConfigureAwait(false);
        return decode.Outcome;
    }
}
