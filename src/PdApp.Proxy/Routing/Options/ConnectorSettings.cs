using Microsoft.Extensions.Configuration;
using PdApp.Protocol;

namespace PdApp.Proxy.Routing.Options;

/// <summary>The connector settings read straight from configuration, where options do not exist yet (service registration).</summary>
internal static class ConnectorSettings
{
    /// <summary><c>Pd:ChildConnectors</c>, as the options bind it (empty when unset).</summary>
    /// <param name="configuration">The configuration holding the <c>Pd</c> section.</param>
    /// <returns>The child connectors' names.</returns>
    public static string[] ChildConnectors(IConfiguration configuration) =>
        configuration.GetSection(PdProxySettings.ChildConnectors).Get<string[]>() ?? [];
}
