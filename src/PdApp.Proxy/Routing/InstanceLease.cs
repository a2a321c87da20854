namespace PdApp.Proxy.Routing;

/// <summary>
/// An instance chosen for one upstream call. Disposing it ends the call's claim on the
/// instance (outstanding count, and the work the policy charged: <see cref="UpstreamInstance.PendingPrefillTokens"/>,
/// <see cref="UpstreamInstance.PendingBlocks"/>); report the outcome first so passive health checking sees it.
/// Every path of a call (success, failure, cancellation) disposes its lease, so nothing stays charged.
/// </summary>
public sealed class InstanceLease : IDisposable
{
    private readonly IInstanceOutcomeSink _sink;
    private readonly InstanceWork? _work;
    private int _disposed;

    internal InstanceLease(UpstreamInstance instance, IInstanceOutcomeSink sink, InstanceWork? work = null)
    {
        Instance = instance;
        _sink = sink;
        _work = work;
        instance.Acquire(work);
    }

    /// <summary>The chosen instance.</summary>
    public UpstreamInstance Instance { get; }

    /// <summary>The call succeeded (any response the instance produced on purpose, 4xx included).</summary>
    public void ReportSuccess() => _sink.OnSuccess(Instance);

    /// <summary>The call failed because of the instance: connect error, timeout, 5xx.</summary>
    public void ReportFailure() => _sink.OnFailure(Instance);

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Instance.Release(_work);
        }
    }
}

/// <summary>Receives call outcomes for passive health checking.</summary>
public interface IInstanceOutcomeSink
{
    /// <summary>A call to <paramref name="instance"/> succeeded.</summary>
    /// <param name="instance">The instance.</param>
    void OnSuccess(UpstreamInstance instance);

    /// <summary>A call to <paramref name="instance"/> failed because of the instance.</summary>
    /// <param name="instance">The instance.</param>
    void OnFailure(UpstreamInstance instance);
}
