namespace PdApp.Proxy.Routing.Balancing;

/// <summary>Chooses one eligible instance; implementations are thread-safe and lock-free.</summary>
internal interface IBalancingPolicy
{
    /// <summary>Chooses an eligible instance, or null when none is.</summary>
    UpstreamInstance? Choose(in SelectionRequest request);
}
