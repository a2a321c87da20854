namespace PdApp.Protocol.Connectors;

/// <summary>
/// What one connector is and what it demands of the app host, the proxy, the simulator and the
/// bench. Every project reads these instead of switching on connector names.
/// </summary>
public sealed record KvConnectorTraits
{
    /// <summary>The connector.</summary>
    public required KvConnectorKind Kind { get; init; }

    /// <summary>The <c>kv_connector</c> name vLLM registers (<see cref="KvConnectorNames"/>).</summary>
    public required string Name { get; init; }

    /// <summary>The engine it runs on.</summary>
    public required KvEngineGeneration Engine { get; init; }

    /// <summary>Whether it is a list of child connectors (<c>MultiConnector</c>).</summary>
    public bool IsComposite { get; init; }

    /// <summary>
    /// Decode computes the prompt itself when no KV arrives (SharedStorage, LMCache, NIXL miss and
    /// prefill locally); false where decode blocks waiting for a peer (PyNccl's NCCL group,
    /// P2pNccl's addressed send), so decode-only fallback is impossible.
    /// </summary>
    public required bool DecodeCanPrefillAlone { get; init; }

    /// <summary>
    /// A decode that failed to connect may go to another decode instance: the KV is still reachable
    /// from there (shared files, NIXL pull from prefill). Not where the KV was pushed to one decode.
    /// </summary>
    public required bool DecodeRetryIsSafe { get; init; }

    /// <summary>Whether short prompts may skip prefill and go to decode alone.</summary>
    public required bool DecodeCanSkipPrefill { get; init; }

    /// <summary>Whether instances register with the proxy's ZeroMQ registry (P2pNccl).</summary>
    public bool NeedsRegistry { get; init; }

    /// <summary>Whether decode is chosen before prefill, because prefill must know where to send the KV.</summary>
    public bool SelectsDecodeFirst { get; init; }

    /// <summary>Whether the upstream request id names both peers' KV addresses (P2pNccl).</summary>
    public bool RequestIdNamesPeers { get; init; }

    /// <summary>
    /// Whether prefill is told its receiver per request and tells the proxy when the KV arrived, so the proxy
    /// runs a notification socket and waits for it before decode (LMCache's PD backend: <c>disagg_spec</c> and
    /// <c>ProxyNotif</c>).
    /// </summary>
    public bool PrefillNotifiesProxy { get; init; }

    /// <summary>Fields added to the prefill request body (NIXL: <c>kv_transfer_params</c> asking for a remote decode).</summary>
    public IReadOnlyList<KvRequestField> PrefillBodyFields { get; init; } = [];

    /// <summary>Fields of prefill's response copied into the decode request body (NIXL: <c>kv_transfer_params</c>).</summary>
    public IReadOnlyList<string> DecodeBodyFields { get; init; } = [];

    /// <summary>The engine image it needs when none is configured.</summary>
    public KvEngineImage DefaultImage { get; init; } = KvEngineImage.Official;

    /// <summary>Whether it may be a <c>MultiConnector</c> child: a v1 connector that is not itself a list.</summary>
    public bool CanBeMultiChild => Engine == KvEngineGeneration.V1 && !IsComposite;
}
