namespace PdApp.Hosting.Deployment;

/// <summary>Defaults shared by the deployment writers.</summary>
public static class DeploymentDefaults
{
    /// <summary>
    /// The proxy's image when none is configured: a fixed tag, so Kubernetes does not default to pulling
    /// <c>latest</c> on every start (<c>imagePullPolicy: Always</c>) and compose never runs a stale <c>latest</c>.
    /// </summary>
    public const string ProxyImage = "pdapp-proxy:0.1.0";

    /// <summary>The proxy's drain on shutdown when <c>Pd:Proxy:ShutdownTimeoutSeconds</c> is not set (the proxy's own default).</summary>
    public const int ProxyDrainSeconds = 30;
}
