namespace PdApp.Proxy.Memory;

/// <summary>
/// Counts the completion requests in flight and those ever started, so background work that must
/// not compete with traffic (<see cref="IdleMemoryTrimService"/>) can tell when the proxy is idle.
/// Two interlocked increments per request and one decrement; nothing else.
/// </summary>
public sealed class InFlightRequests
{
    private int _inFlight;
    private long _started;

    /// <summary>Requests in flight now.</summary>
    public int Count => Volatile.Read(ref _inFlight);

    /// <summary>Requests started since the process began (a change means there was traffic).</summary>
    public long Started => Interlocked.Read(ref _started);

    /// <summary>Marks a request as started; dispose the result when it ends.</summary>
    /// <returns>The scope that ends the request.</returns>
    public Scope Enter()
    {
        Interlocked.Increment(ref _started);
        Interlocked.Increment(ref _inFlight);
        return new Scope(this);
    }

    /// <summary>One request in flight; <see cref="Dispose"/> ends it.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly InFlightRequests? _owner;

        internal Scope(InFlightRequests owner) => _owner = owner;

        /// <summary>Ends the request.</summary>
        public void Dispose()
        {
            if (_owner is not null)
            {
                Interlocked.Decrement(ref _owner._inFlight);
            }
        }
    }
}
