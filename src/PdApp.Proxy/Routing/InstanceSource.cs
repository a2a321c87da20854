namespace PdApp.Proxy.Routing;

/// <summary>Where an upstream instance was learned from.</summary>
public enum InstanceSource
{
    /// <summary>The <c>Pd:Instances</c> configuration (the app host's references).</summary>
    Configuration,

    /// <summary>Registered itself over the P2pNccl ZeroMQ registry.</summary>
    Registry,

    /// <summary>Added through the admin API.</summary>
    Admin,

    /// <summary>Discovered from DNS (a Kubernetes headless service).</summary>
    Dns,
}
