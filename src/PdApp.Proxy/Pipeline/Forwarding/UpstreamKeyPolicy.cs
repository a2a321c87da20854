using PdApp.Proxy.Routing;

namespace PdApp.Proxy.Pipeline.Forwarding;

/// <summary>
/// Which instances get <c>Pd:UpstreamApiKey</c>: configured and DNS-discovered ones always;
/// instances that registered themselves (P2pNccl registry) only once verified (a passing health
/// probe or a served request); instances added through the admin API only with
/// <c>Pd:Proxy:Admin:SendUpstreamKey</c>. Anyone who can reach the registry port or holds the admin
/// key could otherwise collect the engines' key by pointing the proxy at themselves.
/// </summary>
internal static class UpstreamKeyPolicy
{
    public static string? KeyFor(UpstreamInstance instance, string? upstreamApiKey, bool sendToAdminInstances) => instance.Source switch
    {
        InstanceSource.Admin => sendToAdminInstances ? upstreamApiKey : null,
        InstanceSource.Registry => instance.IsVerified ? upstreamApiKey : null,
        _ => upstreamApiKey,
    };
}
