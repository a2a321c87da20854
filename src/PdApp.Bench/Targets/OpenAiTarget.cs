using PdApp.Bench.Measurement;
using PdApp.Bench.Workloads;

namespace PdApp.Bench.Targets;

/// <summary>One OpenAI-compatible server (vLLM, the PD proxy, the simulator).</summary>
internal sealed class OpenAiTarget : IBenchTarget
{
    private readonly OpenAiExchange _exchange;
    private readonly RequestShape _shape;
    private readonly Uri _url;

    /// <summary>Creates a target for <paramref name="baseUrl"/>.</summary>
    public OpenAiTarget(OpenAiExchange exchange, RequestShape shape, Uri baseUrl)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(baseUrl);
        _exchange = exchange;
        _shape = shape;
        _url = shape.EndpointUrl(baseUrl);
        Name = baseUrl.GetLeftPart(UriPartial.Authority);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public Task<RequestOutcome> SendAsync(BenchRequest request, IInterTokenObserver? observer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = RequestBodyWriter.Write(_shape, request);
        return TimeoutScope.RunAsync(_shape.Timeout, request, _exchange.Time, async (token, start) =>
        {
            var result = await _exchange.ExecuteAsync(_url, body, _shape.Stream, _shape.ApiKey, RequestIds.Next(), start, request.PromptTokens, observer, captureField: null, token).ConfigureAwait(false);
            return result.Outcome;
        }, cancellationToken);
    }
}
