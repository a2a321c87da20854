using PdApp.Hosting.Deployment.Model;
using PdApp.Protocol;

namespace PdApp.Hosting.Deployment.Kubernetes;

/// <summary>
/// Who may read the proxy's <c>/metrics</c> in a cluster. With a client or admin key configured the proxy keeps
/// <c>/metrics</c> behind the admin key (<c>Pd:MetricsAccess</c> <c>Auto</c>), but the <c>prometheus.io/*</c>
/// annotation scrape (<c>Pd:Kubernetes:PrometheusAnnotations</c>) cannot send a bearer token: every scrape of the
/// proxy would get 401. So where the manifest asks Prometheus to scrape, it also sets <c>Pd__MetricsAccess=Open</c>.
/// </summary>
/// <remarks>
/// The trade-off: anyone who reaches the proxy's port reads its metrics (instance names, request counts, no keys).
/// When the proxy is exposed beyond the cluster, block <c>/metrics</c> at the ingress, or turn the annotations off
/// and scrape with a Prometheus Operator <c>PodMonitor</c> whose <c>authorization</c> takes the admin key from the
/// <c>pdapp-admin-api-key</c> Secret. A <c>Pd__MetricsAccess</c> the model already sets is kept.
/// </remarks>
internal static class KubernetesMetricsAccess
{
    private static readonly string MetricsAccess = PdProxySettings.ToEnvironmentVariable(PdProxySettings.MetricsAccess);
    private static readonly string[] Keys =
    [
        PdProxySettings.ToEnvironmentVariable(PdProxySettings.ApiKey),
        PdProxySettings.ToEnvironmentVariable(PdProxySettings.AdminApiKey),
    ];

    /// <summary>Adds <c>Pd__MetricsAccess=Open</c> when the annotation scrape would otherwise be refused.</summary>
    /// <param name="environment">The proxy's environment, changed in place.</param>
    /// <param name="prometheusAnnotations">Whether the pods carry the scrape annotations.</param>
    public static void Apply(List<KeyValuePair<string, DeploymentValue>> environment, bool prometheusAnnotations)
    {
        if (prometheusAnnotations
            && environment.Any(e => Keys.Contains(e.Key, StringComparer.Ordinal))
            && !environment.Any(e => e.Key == MetricsAccess))
        {
            environment.Add(new(MetricsAccess, DeploymentValue.Literal("Open")));
        }
    }
}
