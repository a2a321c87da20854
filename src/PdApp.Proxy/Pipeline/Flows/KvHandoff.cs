using PdApp.Proxy.Pipeline.Requests;

namespace PdApp.Proxy.Pipeline.Flows;

/// <summary>
/// One request's KV hand-off between prefill and decode, for connectors where the proxy takes part
/// (LMCache: it names the receiver in the prefill body and waits for the sender's notification).
/// <see cref="None"/> for the others. Disposed when the request no longer waits.
/// </summary>
public class KvHandoff : IDisposable
{
    /// <summary>The hand-off of connectors that need nothing from the proxy.</summary>
    public static KvHandoff None { get; } = new();

    /// <summary>Adds this hand-off's fields to the prefill body.</summary>
    /// <param name="rewriter">The prefill body's rewriter.</param>
    public virtual void AddPrefillFields(JsonBodyRewriter rewriter)
    {
    }

    /// <summary>Waits until the KV reached decode; completes at once when there is nothing to wait for.</summary>
    /// <param name="cancellationToken">The client's request.</param>
    /// <returns>What happened.</returns>
    public virtual ValueTask<KvReadiness> WaitForKvAsync(CancellationToken cancellationToken) => ValueTask.FromResult(KvReadiness.NotAwaited);

    /// <inheritdoc/>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what the hand-off holds.</summary>
    /// <param name="disposing">True from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
    }
}

/// <summary>What the wait for the KV found.</summary>
public enum KvReadiness
{
    /// <summary>The connector gives no signal; decode goes at once.</summary>
    NotAwaited,

    /// <summary>Every sender rank said the KV arrived.</summary>
    Ready,

    /// <summary>No (or not every) notification within the timeout: decode goes and computes what is missing.</summary>
    TimedOut,
}
