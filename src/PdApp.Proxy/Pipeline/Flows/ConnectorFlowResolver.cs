using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Protocol.Connectors;
using PdApp.Proxy.Pipeline.Flows.LMCache;
using PdApp.Proxy.Pipeline.Options;

namespace PdApp.Proxy.Pipeline.Flows;

/// <summary>
/// Chooses the <see cref="DisaggregationFlow"/> for <c>Pd:Connector</c> / <c>Pd:ChildConnectors</c> from
/// the traits <see cref="ConnectorCatalog"/> gives the connector (and a MultiConnector's children).
/// </summary>
public static class ConnectorFlowResolver
{
    /// <summary>Creates the flow for the configured connector.</summary>
    /// <param name="options">The validated options.</param>
    /// <param name="notifications">LMCache's KV-ready waits (a new set when null).</param>
    /// <param name="lmcache">The <c>Pd:LMCache</c> options (defaults when null).</param>
    /// <param name="time">The clock (the system's when null).</param>
    /// <returns>The flow.</returns>
    public static DisaggregationFlow Create(
        DeploymentOptions options, KvReadyNotifications? notifications = null, IOptions<LMCacheOptions>? lmcache = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!ConnectorCatalog.TryResolve(options.Connector, options.ChildConnectors, out var connector))
        {
            throw new InvalidOperationException($"{PdProxySettings.Connector} '{options.Connector}' is not supported.");
        }

        // MultiConnector saves to every child and loads from the first that has the KV; the proxy
        // must satisfy whichever child needs the most from it (NIXL's params, P2pNccl's addresses).
        if (connector.PrefillBodyFields.Count > 0 || connector.DecodeBodyFields.Count > 0)
        {
            return new NixlFlow(connector);
        }

        if (connector.RequestIdNamesPeers)
        {
            return new P2pNcclFlow(connector);
        }

        if (connector.PrefillNotifiesProxy)
        {
            return new LMCacheFlow(connector, notifications ?? new KvReadyNotifications(), lmcache ?? Microsoft.Extensions.Options.Options.Create(new LMCacheOptions()), time ?? TimeProvider.System);
        }

        return new TwoStepFlow(connector);
    }
}
