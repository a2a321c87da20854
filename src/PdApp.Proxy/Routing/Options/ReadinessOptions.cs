namespace PdApp.Proxy.Routing.Options;

/// <summary>What the <c>pd-instances</c> readiness check requires.</summary>
public sealed class ReadinessOptions
{
    /// <summary>
    /// <c>Pd:Proxy:DecodeOnlyFallback</c>: the proxy may serve a request on a decode instance alone
    /// (it prefills locally) when no prefill instance is available, so readiness then needs only
    /// decode. Default false. The request path reads the same key.
    /// </summary>
    public bool DecodeOnlyFallback { get; set; }

    internal const string DecodeOnlyFallbackKey = "Pd:Proxy:DecodeOnlyFallback";
}
