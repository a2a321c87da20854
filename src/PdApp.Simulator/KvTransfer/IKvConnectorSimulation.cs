namespace PdApp.Simulator.KvTransfer;

/// <summary>
/// One simulated vLLM KV connector. Per request the engine asks whether it loads KV (consumer side,
/// before prefill) and whether it saves KV (producer side, after prefill), mirroring vLLM's
/// <c>get_num_new_matched_tokens</c> / <c>save_kv_layer</c> + <c>request_finished</c> split.
/// Implementations move a <see cref="KvRecord"/> between processes (files or loopback TCP).
/// </summary>
internal interface IKvConnectorSimulation : IAsyncDisposable
{
    /// <summary>The connector name (<c>kv_connector</c>), used as the metrics label.</summary>
    string Name { get; }

    /// <summary>Whether the connector is ready to serve (PyNccl: the KV group has formed).</summary>
    bool IsReady { get; }

    /// <summary>Opens listeners and background work (side channels, registration).</summary>
    Task StartAsync(CancellationToken cancellationToken);

    /// <summary>Whether this request should look for transferred KV before prefill.</summary>
    bool ShouldConsume(KvRequest request);

    /// <summary>Whether this request's KV should be saved / sent after prefill.</summary>
    bool ShouldProduce(KvRequest request);

    /// <summary>Looks for the request's KV.</summary>
    Task<KvConsumeResult> TryConsumeAsync(KvRequest request, CancellationToken cancellationToken);

    /// <summary>Hands the request's KV over.</summary>
    Task<KvProduceResult> ProduceAsync(KvRequest request, KvRecord record, CancellationToken cancellationToken);
}
