using PdApp.Protocol;
using PdApp.Proxy.Options;

namespace PdApp.Proxy.Disaggregation;

/// <summary>Chooses the <see cref="DisaggregationFlow"/> for <c>Pd:Connector</c> / <c>Pd:ChildConnectors</c>.</summary>
public static class ConnectorFlowResolver
{
    /// <summary>Creates the flow for the configured connector.</summary>
    /// <param name="options">The validated options.</param>
    /// <returns>The flow.</returns>
    public static DisaggregationFlow Create(PdOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var children = Children(options);
        if (!TryGetCapabilities(options, out var capabilities))
        {
            throw new InvalidOperationException($"{PdProxySettings.Connector} '{options.Connector}' is not supported.");
        }

        // MultiConnector saves to every child and loads from the first that has the KV; the proxy
        // must satisfy whichever child needs the most from it (Nixl's params, P2pNccl's addresses).
        if (children.Contains(KvConnectorNames.Nixl))
        {
            return new NixlFlow(options.Connector);
        }

        if (children.Contains(KvConnectorNames.P2pNccl))
        {
            return new P2pNcclFlow(options.Connector);
        }

        return new TwoStepFlow(options.Connector, capabilities);
    }

    /// <summary>The capabilities of the configured connector, or false when it is unknown.</summary>
    /// <param name="options">The options (maybe not yet validated).</param>
    /// <param name="capabilities">The capabilities.</param>
    /// <returns>True when the connector is known.</returns>
    public static bool TryGetCapabilities(PdOptions options, out FlowCapabilities capabilities)
    {
        ArgumentNullException.ThrowIfNull(options);
        capabilities = FlowCapabilities.Flexible;
        var children = Children(options);
        if (children.Count == 0)
        {
            return false;
        }

        foreach (var child in children)
        {
            FlowCapabilities? own = child switch
            {
                KvConnectorNames.SharedStorage or KvConnectorNames.LMCacheV1 or KvConnectorNames.Nixl => FlowCapabilities.Flexible,
                KvConnectorNames.PyNccl or KvConnectorNames.P2pNccl => FlowCapabilities.PeerBound,
                _ => null,
            };
            if (own is not { } known)
            {
                return false;
            }

            capabilities = capabilities.Intersect(known);
        }

        return true;
    }

    private static IReadOnlyList<string> Children(PdOptions options) =>
        options.Connector == KvConnectorNames.Multi ? options.ChildConnectors
        : string.IsNullOrEmpty(options.Connector) ? []
        : [options.Connector];
}
