namespace PdApp.Hosting.Topology;

/// <summary>One port the topology needs, the setting it comes from and what uses it.</summary>
/// <param name="Port">The port number.</param>
/// <param name="Setting">The setting that chooses it, e.g. <c>Pd:ProxyPort</c>, for messages.</param>
/// <param name="Owner">What listens on it, e.g. <c>the proxy</c> or <c>decode-0 (HTTP)</c>.</param>
/// <param name="PublishedByContainers">
/// Whether a vLLM container on a bridge network still binds it on the host (published HTTP ports, the
/// proxy's own ports); KV ports stay inside the containers unless they use the host network.
/// </param>
public sealed record PdPortClaim(int Port, string Setting, string Owner, bool PublishedByContainers);
