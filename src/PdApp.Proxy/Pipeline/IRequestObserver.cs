using PdApp.Proxy.Pipeline.Admission;
using PdApp.Proxy.Pipeline.Forwarding;
using PdApp.Proxy.Pipeline.Requests;
using PdApp.Proxy.Routing;
using Yarp.ReverseProxy.Forwarder;

namespace PdApp.Proxy.Pipeline;

/// <summary>
/// The one seam between the request pipeline and observability: the pipeline reports each event
/// of one client request here, once, and the implementation turns it into spans, metrics and
/// timing logs. Calls arrive in order on the request's own flow (one upstream call at a time).
/// </summary>
public interface IRequestObserver
{
    /// <summary>The request started waiting for admission.</summary>
    void AdmissionStarted();

    /// <summary>Admission answered (admitted or refused).</summary>
    /// <param name="result">The answer.</param>
    void AdmissionEnded(AdmissionResult result);

    /// <summary>The body was parsed and validated.</summary>
    /// <param name="request">The request.</param>
    void RequestParsed(CompletionRequest request);

    /// <summary>The prompt is short enough to skip prefill.</summary>
    void PrefillSkipped();

    /// <summary>A prefill call is being sent.</summary>
    /// <param name="instance">The prefill instance.</param>
    /// <param name="upstreamRequestId">The request id P sees.</param>
    void PrefillStarted(UpstreamInstance instance, string upstreamRequestId);

    /// <summary>The prefill call returned.</summary>
    /// <param name="attempt">Its outcome.</param>
    void PrefillEnded(PrefillAttempt attempt);

    /// <summary>The prefill is retried on another instance after <paramref name="previous"/> failed.</summary>
    /// <param name="previous">How the failed attempt ended.</param>
    void PrefillRetried(PrefillAttemptKind previous);

    /// <summary>The request is served by decode alone because prefill was unavailable or failed.</summary>
    /// <param name="reason"><c>no_prefill_instance</c> or <c>prefill_failed</c>.</param>
    void DecodeOnlyFallback(string reason);

    /// <summary>A decode follows a successful prefill: D should find the KV.</summary>
    void KvTransferExpected();

    /// <summary>A decode relay starts.</summary>
    /// <param name="call">The call.</param>
    void DecodeStarted(DecodeCall call);

    /// <summary>D's response headers arrived (its body follows through <see cref="DecodeBytesRelayed"/>).</summary>
    /// <param name="response">D's response.</param>
    void DecodeResponded(HttpResponseMessage response);

    /// <summary>
    /// Bytes of D's body, as each read hands them to the client (the relay's in-band error event
    /// included). Called on the relay's hot path: implementations must not block or allocate per call.
    /// </summary>
    /// <param name="bytes">The bytes read.</param>
    void DecodeBytesRelayed(ReadOnlySpan<byte> bytes)
    {
    }

    /// <summary>
    /// One whole event of D's event stream, as the decode event relay framed and read it (a relayed
    /// stream's bytes then do not come through <see cref="DecodeBytesRelayed"/>, except events the
    /// relay does not classify: comments, other fields, several data lines, non-JSON data). Called
    /// on the relay's hot path: implementations must not block or allocate per call.
    /// </summary>
    /// <param name="kind">What the event's data line carried.</param>
    /// <param name="completionTokens">A final usage chunk's <c>usage.completion_tokens</c>; null otherwise.</param>
    void DecodeEventRelayed(SseDataKind kind, int? completionTokens)
    {
    }

    /// <summary>The decode relay returned.</summary>
    /// <param name="error">YARP's result.</param>
    /// <param name="clientAborted">Whether the client had gone.</param>
    void DecodeEnded(ForwarderError error, bool clientAborted);

    /// <summary>The decode is moved to another instance after a connect failure.</summary>
    void DecodeRetried();

    /// <summary>
    /// The decode that just ended failed and request migration decided (after <see cref="DecodeEnded"/>,
    /// before the next decode starts): the event belongs to the failed decode.
    /// </summary>
    /// <param name="outcome"><c>migrated</c>, <c>refused</c> or <c>failed</c>.</param>
    /// <param name="reason">Why the decode failed, or why the request could not move.</param>
    /// <param name="tokensRelayed">Tokens the client had received.</param>
    void DecodeMigration(string outcome, string reason, int tokensRelayed);

    /// <summary>What became of the expected KV transfer.</summary>
    /// <param name="found">True when D found it, false when it prefilled locally.</param>
    void KvTransferObserved(bool found);

    /// <summary>The client left after prefill and before decode answered.</summary>
    void CancelledAfterPrefill();

    /// <summary>The request ended.</summary>
    /// <param name="statusCode">The status the client got (499 when it left first).</param>
    /// <param name="exchange">How it was served.</param>
    void RequestCompleted(int statusCode, PdExchange exchange);
}
