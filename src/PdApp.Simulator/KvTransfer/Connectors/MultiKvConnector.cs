using PdApp.Protocol;

namespace PdApp.Simulator.KvTransfer.Connectors;

/// <summary>
/// vLLM's MultiConnector (vllm/distributed/kv_transfer/kv_connector/v1/multi_connector.py): loads
/// from the first child that has the KV, saves through every child; the response's
/// <c>kv_transfer_params</c> come from the child that returns some (NIXL).
/// </summary>
internal sealed class MultiKvConnector(IReadOnlyList<IKvConnectorSimulation> children) : IKvConnectorSimulation
{
    /// <summary>The children, in order.</summary>
    public IReadOnlyList<IKvConnectorSimulation> Children => children;

    /// <inheritdoc />
    public string Name => KvConnectorNames.Multi;

    /// <inheritdoc />
    public bool IsReady => children.All(child => child.IsReady);

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var child in children)
        {
            await child.StartAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public bool ShouldConsume(KvRequest request) => children.Any(child => child.ShouldConsume(request));

    /// <inheritdoc />
    public bool ShouldProduce(KvRequest request) => children.Any(child => child.ShouldProduce(request));

    /// <inheritdoc />
    public async Task<KvConsumeResult> TryConsumeAsync(KvRequest request, CancellationToken cancellationToken)
    {
        var reasons = new List<string>();
        foreach (var child in children)
        {
            if (!child.ShouldConsume(request))
            {
                continue;
            }

            var result = await child.TryConsumeAsync(request, cancellationToken).ConfigureAwait(false);
            if (result.Hit)
            {
                return result;
            }

            reasons.Add($"{child.Name}: {result.Reason}");
        }

        return KvConsumeResult.Miss(string.Join("; ", reasons));
    }

    /// <inheritdoc />
    public async Task<KvProduceResult> ProduceAsync(KvRequest request, KvRecord record, CancellationToken cancellationToken)
    {
        var produced = false;
        System.Text.Json.Nodes.JsonObject? kvParams = null;
        var reasons = new List<string>();
        foreach (var child in children)
        {
            if (!child.ShouldProduce(request))
            {
                continue;
            }

            var result = await child.ProduceAsync(request, record, cancellationToken).ConfigureAwait(false);
            produced |= result.Produced;
            kvParams ??= result.KvTransferParams;
            if (!result.Produced)
            {
                reasons.Add($"{child.Name}: {result.Reason}");
            }
        }

        return produced ? KvProduceResult.Done(kvParams) : KvProduceResult.NotProduced(string.Join("; ", reasons));
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var child in children)
        {
            await child.DisposeAsync().ConfigureAwait(false);
        }
    }
}
