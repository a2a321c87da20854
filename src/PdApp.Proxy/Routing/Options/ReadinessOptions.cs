namespace PdApp.Proxy.Routing.Options;

/// <summary>What the <c>pd-instances</c> readiness check requires.</summary>
public sealed class ReadinessOptions
{
    /// <summary>
    /// <c>Pd:Proxy:DecodeOnlyFallback</c>: the proxy may serve a request on a decode instance alone
    /// (it prefills locally) when no prefill instance is available, so readiness then needs only
    /// decode. Default false. Bound once, here: the request pipeline reads this option to fall back,
    /// and its validator refuses it for connectors whose decode instance cannot prefill alone.
    /// </summary>
    public bool DecodeOnlyFallback { get; set; }

    /// <summary>The configuration key of <see cref="DecodeOnlyFallback"/>.</summary>
    public const string DecodeOnlyFallbackKey = "Pd:Proxy:DecodeOnlyFallback";
}
