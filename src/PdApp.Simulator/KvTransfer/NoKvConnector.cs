namespace PdApp.Simulator.KvTransfer;

/// <summary>Plain serving without <c>--kv-transfer-config</c>: nothing is loaded or saved.</summary>
internal sealed class NoKvConnector : IKvConnectorSimulation
{
    /// <inheritdoc />
    public string Name => "none";

    /// <inheritdoc />
    public bool IsReady => true;

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public bool ShouldConsume(KvRequest request) => false;

    /// <inheritdoc />
    public bool ShouldProduce(KvRequest request) => false;

    /// <inheritdoc />
    public Task<KvConsumeResult> TryConsumeAsync(KvRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(KvConsumeResult.Miss("no connector"));

    /// <inheritdoc />
    public Task<KvProduceResult> ProduceAsync(KvRequest request, KvRecord record, CancellationToken cancellationToken) =>
        Task.FromResult(KvProduceResult.NotProduced("no connector"));

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
