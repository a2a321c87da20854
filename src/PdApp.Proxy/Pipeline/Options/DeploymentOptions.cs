using PdApp.Protocol;

namespace PdApp.Proxy.Pipeline.Options;

/// <summary>
/// The deployment facts the app host writes into the <c>Pd</c> section (keys in
/// <see cref="PdProxySettings"/>): which connector the instances run, the served model, the upstream key (the proxy's own keys are the security layer's <c>ApiKeyOptions</c>).
/// Instances themselves are read by the routing layer.
/// </summary>
public sealed class DeploymentOptions
{
    /// <summary><c>Pd:Connector</c>: the instances' <c>kv_connector</c>; chooses the PD flow. Required.</summary>
    public string Connector { get; set; } = string.Empty;

    /// <summary><c>Pd:ChildConnectors:{i}</c>: the MultiConnector's children, in order (required for MultiConnector).</summary>
    public List<string> ChildConnectors { get; set; } = [];

    /// <summary>
    /// <c>Pd:Model</c>: the served model name. When set, requests naming another model get 404 and
    /// <c>/v1/models</c> can answer without an instance; when empty the instances judge the model.
    /// </summary>
    public string? Model { get; set; }

    /// <summary><c>Pd:UpstreamApiKey</c>: the instances' <c>--api-key</c>, sent to them as a bearer token.</summary>
    public string? UpstreamApiKey { get; set; }
}
