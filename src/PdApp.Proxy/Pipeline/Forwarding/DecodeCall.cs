using PdApp.Proxy.Pipeline.Migration;
using PdApp.Proxy.Pipeline.Requests;
using PdApp.Proxy.Routing;

namespace PdApp.Proxy.Pipeline.Forwarding;

/// <summary>One decode relay: where to, what to send, and what was learned from D's response.</summary>
public sealed class DecodeCall
{
    /// <summary>Creates the call.</summary>
    /// <param name="instance">The decode instance.</param>
    /// <param name="route">The route (same path upstream).</param>
    /// <param name="body">The decode body.</param>
    /// <param name="requestId">The client-facing request id (kept on the response).</param>
    /// <param name="upstreamRequestId">The <c>X-Request-Id</c> sent to D.</param>
    /// <param name="prefillInstance">The instance that prefilled, or null.</param>
    /// <param name="stream">Whether the client asked for a stream.</param>
    public DecodeCall(
        UpstreamInstance instance,
        OpenAiRoute route,
        ReadOnlyMemory<byte> body,
        string requestId,
        string upstreamRequestId,
        UpstreamInstance? prefillInstance,
        bool stream)
    {
        Stream = stream;
        Instance = instance;
        Route = route;
        Body = body;
        RequestId = requestId;
        UpstreamRequestId = upstreamRequestId;
        PrefillInstance = prefillInstance;
    }

    /// <summary>The decode instance.</summary>
    public UpstreamInstance Instance { get; }

    /// <summary>Whether the client asked for a stream (chooses the idle or the total timeout).</summary>
    public bool Stream { get; }

    /// <summary>The route.</summary>
    public OpenAiRoute Route { get; }

    /// <summary>The decode body.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>The client-facing request id.</summary>
    public string RequestId { get; }

    /// <summary>The request id D sees.</summary>
    public string UpstreamRequestId { get; }

    /// <summary>The prefill instance, or null.</summary>
    public UpstreamInstance? PrefillInstance { get; }

    /// <summary>Whether D's response headers arrived.</summary>
    public bool Responded { get; internal set; }

    /// <summary>D's status, once it responded.</summary>
    public int StatusCode { get; internal set; }

    /// <summary>D's <c>X-PdSim-Kv-Transfer</c> (the simulator's report on the KV), if any.</summary>
    public string? KvTransferOutcome { get; internal set; }

    /// <summary>
    /// The client's stream so far, when the request may move to another decode instance: then an
    /// event stream is relayed whole events at a time and a failure ends the relay cleanly, recorded
    /// here, for the pipeline to continue elsewhere or end in-band. Null: failures end in-band at once.
    /// </summary>
    public StreamProgress? Progress { get; init; }

    /// <summary>What broke the event stream (a <see cref="MigrationReasons"/> cause), if it broke.</summary>
    public string? StreamFailureReason { get; internal set; }

    /// <summary>Why the stream ended early with an in-band error event, if it did.</summary>
    public string? StreamError { get; internal set; }

    /// <summary>The status of the in-band error event that ended the stream (502, 503, 504), if any.</summary>
    public int? StreamErrorStatus { get; internal set; }
}
