using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Protocol.Connectors;

namespace PdApp.Proxy.Routing.Options;

/// <summary>
/// The P2pNccl registration socket (<c>Pd:Registry</c>), following vLLM's
/// <c>examples/online_serving/disaggregated_serving_p2p_nccl_xpyd/disagg_proxy_p2p_nccl_xpyd.py</c>.
/// </summary>
public sealed class P2pNcclRegistryOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Pd:Registry";

    /// <summary>vLLM's example proxy port, used when the connector is P2pNccl and no port is set.</summary>
    public const int DefaultPort = 30001;

    /// <summary>
    /// <c>Pd:Registry:Port</c>: the ROUTER socket's port. Unset: the registry runs only for the
    /// P2pNccl connector, on <see cref="DefaultPort"/>. 0 binds a free port (tests).
    /// </summary>
    public int? Port { get; set; }

    /// <summary>
    /// <c>Pd:Registry:BindAddress</c>: the interface to bind, default <c>*</c> (all; instances are on
    /// other hosts). Set it to the address on the instances' network; bound to all interfaces with
    /// neither <see cref="AllowedNetworks"/> nor <see cref="SharedSecret"/>, the registry logs a warning at start.
    /// </summary>
    public string BindAddress { get; set; } = "*";

    /// <summary>
    /// <c>Pd:Registry:AllowedNetworks:{i}</c>: IP addresses, CIDR networks (<c>10.0.0.0/8</c>) or host names
    /// (matched exactly: containers announce their name) that both announced addresses (<c>http_address</c>,
    /// <c>zmq_address</c>) must lie in; anything else is rejected, logged and counted. Empty (default): any
    /// address (vLLM's example behaviour). The app host sets it from the topology for local runs.
    /// </summary>
    public IList<string> AllowedNetworks { get; } = [];

    /// <summary>
    /// <c>Pd:Registry:SharedSecret</c>: when set, a registration must carry <c>"hmac"</c>, the
    /// HMAC-SHA256 of its fields under this secret (<see cref="PdApp.Protocol.P2pNccl.P2pNcclRegistrationMessage.Sign"/>);
    /// unsigned or wrongly signed ones are rejected. Only PdApp-aware senders sign (the simulator, from
    /// <c>PDAPP_REGISTRY_SHARED_SECRET</c>); vLLM's engines do not, so with real vLLM the protection is
    /// <see cref="BindAddress"/>, <see cref="AllowedNetworks"/> and the <c>/health</c> check before use.
    /// </summary>
    public string? SharedSecret { get; set; }

    /// <summary><c>Pd:Registry:ExpirySeconds</c>: an instance not heard from for this long is forgotten, default 5 (instances ping every 3 s).</summary>
    public double ExpirySeconds { get; set; } = 5;

    /// <summary>
    /// Whether the registry runs: a port is set, or the connector (<c>Pd:Connector</c>, or one of a
    /// MultiConnector's <c>Pd:ChildConnectors</c>) needs it (<see cref="KvConnectorTraits.NeedsRegistry"/>: P2pNccl).
    /// </summary>
    public bool Enabled { get; set; }

    internal int EffectivePort => Port ?? DefaultPort;

    /// <summary>
    /// <see cref="Enabled"/> as <see cref="Configure"/> will set it, read from the configuration before the
    /// options exist, so the registry's service (and the ZeroMQ code it loads) is registered only when it runs.
    /// </summary>
    /// <param name="configuration">The configuration holding the <c>Pd</c> section.</param>
    /// <returns>Whether the registry runs.</returns>
    internal static bool IsEnabled(Microsoft.Extensions.Configuration.IConfiguration configuration)
    {
        var options = new P2pNcclRegistryOptions
        {
            Port = string.IsNullOrEmpty(configuration.GetSection(SectionName)[nameof(Port)]) ? null : DefaultPort,
        };
        Configure(options, configuration[PdProxySettings.Connector], ConnectorSettings.ChildConnectors(configuration));
        return options.Enabled;
    }

    internal static void Configure(P2pNcclRegistryOptions options, string? connector, IEnumerable<string> childConnectors) =>
        options.Enabled = options.Port is not null
            || (ConnectorCatalog.TryResolve(connector, childConnectors, out var resolved) && resolved.NeedsRegistry);
}

/// <summary>Validates <see cref="P2pNcclRegistryOptions"/> at start-up.</summary>
internal sealed class P2pNcclRegistryOptionsValidator : IValidateOptions<P2pNcclRegistryOptions>
{
    public ValidateOptionsResult Validate(string? name, P2pNcclRegistryOptions options)
    {
        var failures = new List<string>();
        if (options.Port is < 0 or > 65535)
        {
            failures.Add($"{PdProxySettings.RegistryPort} must be between 0 and 65535 (was {options.Port}).");
        }

        if (string.IsNullOrWhiteSpace(options.BindAddress))
        {
            failures.Add($"{P2pNcclRegistryOptions.SectionName}:BindAddress must not be empty.");
        }

        for (var i = 0; i < options.AllowedNetworks.Count; i++)
        {
            var entry = options.AllowedNetworks[i];
            if (!System.Net.IPNetwork.TryParse(entry, out _) && !System.Net.IPAddress.TryParse(entry, out _) && !P2pNccl.RegistrationAllowlist.IsHostName(entry))
            {
                failures.Add($"{P2pNcclRegistryOptions.SectionName}:AllowedNetworks:{i} must be an IP address, a CIDR network or a host name (was '{options.AllowedNetworks[i]}').");
            }
        }

        if (!(options.ExpirySeconds > 0))
        {
            failures.Add($"{P2pNcclRegistryOptions.SectionName}:ExpirySeconds must be positive (was {options.ExpirySeconds}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
