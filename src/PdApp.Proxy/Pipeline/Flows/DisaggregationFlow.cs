using PdApp.Protocol.Connectors;
using PdApp.Proxy.Pipeline.Requests;
using PdApp.Proxy.Routing;

namespace PdApp.Proxy.Pipeline.Flows;

/// <summary>
/// What one connector family needs from the proxy between P and D: the prefill body, the decode
/// body, the request id both instances see, and what may be retried. The orchestration (selection,
/// retries, timeouts, relaying) is shared in <see cref="PdRequestPipeline"/>.
/// </summary>
public abstract class DisaggregationFlow
{
    /// <summary>Creates the flow.</summary>
    /// <param name="connector">The configured connector, as <see cref="ConnectorCatalog"/> resolves it.</param>
    protected DisaggregationFlow(ResolvedConnector connector)
    {
        ArgumentNullException.ThrowIfNull(connector);
        Traits = connector;
        Connector = connector.Connector.Name;
        Capabilities = new FlowCapabilities(connector.DecodeCanPrefillAlone, connector.DecodeRetryIsSafe);
    }

    /// <summary>The configured connector (<c>Pd:Connector</c>).</summary>
    public string Connector { get; }

    /// <summary>What the connector allows.</summary>
    public FlowCapabilities Capabilities { get; }

    /// <summary>Whether D must be chosen before prefill (its address goes into the prefill request).</summary>
    public bool SelectsDecodeBeforePrefill => Traits.SelectsDecodeFirst;

    /// <summary>Whether short prompts may go to decode alone (<c>Pd:Proxy:Disaggregation:SkipPrefillBelowTokens</c>).</summary>
    public bool CanSkipPrefill => Traits.DecodeCanSkipPrefill;

    /// <summary>The connector's traits (with a MultiConnector's children).</summary>
    protected ResolvedConnector Traits { get; }

    /// <summary>Checks that the pair can serve this connector; returns why not, or null.</summary>
    /// <param name="prefill">The prefill instance.</param>
    /// <param name="decode">The decode instance.</param>
    /// <returns>The problem, or null.</returns>
    public virtual string? ValidatePair(UpstreamInstance prefill, UpstreamInstance decode) => null;

    /// <summary>
    /// Starts one prefill attempt's KV hand-off to <paramref name="decode"/> (registered before prefill is sent,
    /// since the connector may signal before prefill answers); <see cref="KvHandoff.None"/> by default.
    /// </summary>
    /// <param name="decode">The decode chosen before prefill, or null.</param>
    /// <returns>The hand-off; the caller disposes it.</returns>
    public virtual KvHandoff BeginHandoff(UpstreamInstance? decode) => KvHandoff.None;

    /// <summary>
    /// The <c>X-Request-Id</c> sent to both instances: made by the proxy, unique per request, never
    /// the client's (vLLM uses it as the engine's request id; two clients reusing one id would
    /// collide inside the engine). The client still gets its own id back.
    /// </summary>
    /// <param name="requestId">The client-facing request id.</param>
    /// <param name="prefill">The prefill instance, or null when prefill is skipped.</param>
    /// <param name="decode">The decode instance, or null when not chosen yet (flows that need it choose it first).</param>
    /// <returns>The upstream request id.</returns>
    public virtual string CreateUpstreamRequestId(string requestId, UpstreamInstance? prefill, UpstreamInstance? decode) => Guid.NewGuid().ToString("N");

    /// <summary>
    /// The prefill body: the client's body with <c>max_tokens</c> = 1 (and <c>max_completion_tokens</c>
    /// = 1 when present), <c>stream</c> = false, without <c>stream_options</c>, <c>min_tokens</c> and
    /// <c>min_completion_tokens</c> (vLLM rejects min &gt; max, and P must stop after one token),
    /// plus the connector's own fields (<see cref="ResolvedConnector.PrefillBodyFields"/>).
    /// </summary>
    /// <param name="request">The client's request.</param>
    /// <returns>The body.</returns>
    public byte[] CreatePrefillBody(CompletionRequest request) => CreatePrefillBody(request, KvHandoff.None);

    /// <summary>The prefill body (see <see cref="CreatePrefillBody(CompletionRequest)"/>) with the hand-off's fields.</summary>
    /// <param name="request">The client's request.</param>
    /// <param name="handoff">The request's KV hand-off (<see cref="BeginHandoff"/>).</param>
    /// <returns>The body.</returns>
    public byte[] CreatePrefillBody(CompletionRequest request, KvHandoff handoff)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(handoff);
        var rewriter = new JsonBodyRewriter()
            .Set("max_tokens", static w => w.WriteNumberValue(1))
            .Replace("max_completion_tokens", static w => w.WriteNumberValue(1))
            .Set("stream", static w => w.WriteBooleanValue(false))
            .Remove("stream_options")
            .Remove("min_tokens")
            .Remove("min_completion_tokens");
        foreach (var field in Traits.PrefillBodyFields)
        {
            rewriter.Set(field.Name, w => w.WriteRawValue(field.Utf8Json.Span, skipInputValidation: true));
        }

        handoff.AddPrefillFields(rewriter);

        return rewriter.Apply(request.Document.RootElement);
    }

    /// <summary>The decode body: the client's original body unless the connector adds fields.</summary>
    /// <param name="request">The client's request.</param>
    /// <param name="prefill">P's response.</param>
    /// <param name="prefillInstance">The instance that prefilled.</param>
    /// <param name="decodeInstance">The decode instance.</param>
    /// <returns>The body and what P's response said about the transfer.</returns>
    public virtual DecodeBody CreateDecodeBody(
        CompletionRequest request, PrefillResponse prefill, UpstreamInstance prefillInstance, UpstreamInstance decodeInstance)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new DecodeBody(request.Body, null);
    }
}
