using PdApp.Protocol;

namespace PdApp.Simulator.KvTransfer.Connectors;

/// <summary>
/// Role handling shared by the connectors: <c>kv_producer</c> saves, <c>kv_consumer</c> loads,
/// <c>kv_both</c> loads when the KV is there and saves when it had to compute it.
/// </summary>
internal abstract class KvConnectorBase(KvConnectorContext context) : IKvConnectorSimulation
{
    /// <summary>The connector's context.</summary>
    protected KvConnectorContext Context { get; } = context;

    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public virtual bool IsReady => true;

    /// <summary>Whether the role saves KV.</summary>
    protected bool IsProducerRole => Context.Role is KvRoles.Producer or KvRoles.Both;

    /// <summary>Whether the role loads KV.</summary>
    protected bool IsConsumerRole => Context.Role is KvRoles.Consumer or KvRoles.Both;

    /// <inheritdoc />
    public virtual Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public virtual bool ShouldConsume(KvRequest request) => IsConsumerRole;

    /// <inheritdoc />
    public virtual bool ShouldProduce(KvRequest request) => IsProducerRole;

    /// <inheritdoc />
    public abstract Task<KvConsumeResult> TryConsumeAsync(KvRequest request, CancellationToken cancellationToken);

    /// <inheritdoc />
    public abstract Task<KvProduceResult> ProduceAsync(KvRequest request, KvRecord record, CancellationToken cancellationToken);

    /// <inheritdoc />
    public virtual ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>Checks transferred KV against the request's prompt: KV of another prompt is useless (a miss).</summary>
    protected static KvConsumeResult Verify(KvRequest request, KvRecord? record, string where)
    {
        if (record is null)
        {
            return KvConsumeResult.Miss($"no KV at {where}");
        }

        return record.PromptHash == request.PromptHash
            ? KvConsumeResult.Found(record)
            : KvConsumeResult.Miss($"KV at {where} is for another prompt (produced by {record.Producer})");
    }
}
