using PdApp.Protocol;
using PdApp.Protocol.Connectors;

namespace PdApp.Hosting.Topology;

/// <summary>
/// Every port a topology needs (proxy, registry, engines' HTTP, KV ports, side channels, receivers,
/// rendezvous), each with the setting that chooses it: the validator checks they are distinct and the
/// start-up check that they are free.
/// </summary>
public static class PdPortClaims
{
    /// <summary>The ports <paramref name="options"/> lays out.</summary>
    /// <param name="options">The options.</param>
    /// <param name="layout">The laid-out instances.</param>
    /// <returns>The claims, the proxy's first.</returns>
    public static IReadOnlyList<PdPortClaim> For(PdOptions options, IReadOnlyList<PdInstanceLayout> layout)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(layout);
        var claims = new List<PdPortClaim> { new(options.ProxyPort, "Pd:ProxyPort", "the proxy", PublishedByContainers: true) };
        if (options.EffectiveConnectors().Any(c => c.NeedsRegistry))
        {
            claims.Add(new(options.RegistryPort, "Pd:RegistryPort", "the proxy's P2pNccl registry", PublishedByContainers: true));
        }

        if (options.Backend == PdBackend.External)
        {
            return claims;
        }

        var stride = Math.Max(1, options.TensorParallelSize);
        foreach (var instance in layout)
        {
            claims.Add(new(instance.Port, instance.PortSetting, instance.Name + " (HTTP)", PublishedByContainers: true));
            if (options.KvEvents.IsEnabled)
            {
                claims.Add(new(instance.KvEventsPort, PdKvEventsOptions.SectionPath + ":BasePort", instance.Name + " (KV events)", PublishedByContainers: true));
                if (instance.KvEventsReplayPort > 0)
                {
                    claims.Add(new(instance.KvEventsReplayPort, PdKvEventsOptions.SectionPath + ":BasePort", instance.Name + " (KV events replay)", PublishedByContainers: true));
                }
            }

            for (var rank = 0; rank < stride; rank++)
            {
                if (Uses(KvConnectorKind.P2pNccl))
                {
                    claims.Add(new(instance.KvPort + rank, instance.KvPortSetting, $"{instance.Name} (P2pNccl kv_port, TP rank {rank})", false));
                }

                if (Uses(KvConnectorKind.Nixl))
                {
                    claims.Add(new(instance.SideChannelPort + rank, instance.SideChannelPortSetting, $"{instance.Name} (NIXL side channel, TP rank {rank})", false));
                }

                if (Uses(KvConnectorKind.LMCacheV1) && instance.Role == PdRole.Decode)
                {
                    claims.Add(new(instance.LMCacheInitPort + rank, "Pd:LMCache:InitBasePort", $"{instance.Name} (LMCache pd_peer_init_port, TP rank {rank})", false));
                    claims.Add(new(instance.LMCacheAllocPort + rank, "Pd:LMCache:AllocBasePort", $"{instance.Name} (LMCache pd_peer_alloc_port, TP rank {rank})", false));
                }
            }
        }

        if (Uses(KvConnectorKind.LMCacheV1))
        {
            claims.Add(new(options.LMCache.NotificationPort, "Pd:LMCache:NotificationPort", "the proxy (LMCache KV-ready notifications)", false));
        }

        if (Uses(KvConnectorKind.PyNccl))
        {
            claims.Add(new(options.PyNccl.KvPort, "Pd:PyNccl:KvPort", "the PyNccl rendezvous", false));
        }

        return claims;

        bool Uses(KvConnectorKind kind) => options.Uses(kind);
    }
}
