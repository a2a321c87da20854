using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Protocol.Connectors;

namespace PdApp.Proxy.Pipeline.Flows.LMCache;

/// <summary>
/// <c>Pd:LMCache</c>: the proxy's side of LMCache's PD protocol (LMCache examples/disagg_prefill proxy): the
/// socket senders notify, the receiver ports it names when an instance does not carry its own, and how
/// long decode waits for the notification.
/// </summary>
public sealed class LMCacheOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Pd:LMCache";

    /// <summary>LMCache's example <c>pd_proxy_port</c>, used when the connector is LMCache and no port is set.</summary>
    public const int DefaultNotificationPort = 7500;

    /// <summary>
    /// <c>Pd:LMCache:NotificationPort</c>: the ZeroMQ PULL socket senders push "KV ready" to (their
    /// <c>pd_proxy_port</c>). Unset: <see cref="DefaultNotificationPort"/>. 0 binds a free port (tests).
    /// </summary>
    public int? NotificationPort { get; set; }

    /// <summary>
    /// <c>Pd:LMCache:BindAddress</c>: the interface to bind, default <c>*</c> (senders run in containers or on
    /// other hosts). A notification only releases a wait the proxy itself started under an unguessable id, so a
    /// forged one can at most start a decode early (which then computes the missing KV); restrict the interface
    /// where the network is shared.
    /// </summary>
    public string BindAddress { get; set; } = "*";

    /// <summary><c>Pd:LMCache:InitPort</c>: a receiver's <c>pd_peer_init_port</c> (rank 0) when its instance has no <c>KvAddress</c>; LMCache's example: 7300.</summary>
    public int InitPort { get; set; } = 7300;

    /// <summary><c>Pd:LMCache:AllocPort</c>: a receiver's <c>pd_peer_alloc_port</c> (rank 0) when its instance has no <c>KvAllocPort</c>; LMCache's example: 7400.</summary>
    public int AllocPort { get; set; } = 7400;

    /// <summary><c>Pd:LMCache:Ranks</c>: tensor-parallel ranks per receiver when its instance has no <c>KvRanks</c>, default 1.</summary>
    public int Ranks { get; set; } = 1;

    /// <summary>
    /// <c>Pd:LMCache:KvReadyTimeoutSeconds</c>: how long decode waits for every sender rank's notification after
    /// prefill answered, default 5; then decode goes anyway and computes what did not arrive.
    /// </summary>
    public double KvReadyTimeoutSeconds { get; set; } = 5;

    /// <summary>Whether the notification socket runs: a port is set, or the connector needs it (<see cref="KvConnectorTraits.PrefillNotifiesProxy"/>).</summary>
    public bool Enabled { get; set; }

    internal int EffectivePort => NotificationPort ?? DefaultNotificationPort;

    /// <summary>
    /// <see cref="Enabled"/> as <see cref="Configure"/> will set it, read from the configuration before the
    /// options exist, so the listener (and the ZeroMQ code it loads) is registered only when it runs.
    /// </summary>
    /// <param name="configuration">The configuration holding the <c>Pd</c> section.</param>
    /// <returns>Whether the notification socket runs.</returns>
    internal static bool IsEnabled(Microsoft.Extensions.Configuration.IConfiguration configuration)
    {
        var options = new LMCacheOptions
        {
            NotificationPort = string.IsNullOrEmpty(configuration.GetSection(SectionName)[nameof(NotificationPort)]) ? null : DefaultNotificationPort,
        };
        Configure(options, configuration[PdProxySettings.Connector], Routing.Options.ConnectorSettings.ChildConnectors(configuration));
        return options.Enabled;
    }

    internal static void Configure(LMCacheOptions options, string? connector, IEnumerable<string> childConnectors) =>
        options.Enabled = options.NotificationPort is not null
            || (ConnectorCatalog.TryResolve(connector, childConnectors, out var resolved) && resolved.PrefillNotifiesProxy);
}

/// <summary>Validates <see cref="LMCacheOptions"/> at start-up, naming the setting.</summary>
internal sealed class LMCacheOptionsValidator : IValidateOptions<LMCacheOptions>
{
    public ValidateOptionsResult Validate(string? name, LMCacheOptions options)
    {
        var failures = new List<string>();
        if (options.NotificationPort is < 0 or > 65535)
        {
            failures.Add($"{PdProxySettings.LMCacheNotificationPort} must be between 0 and 65535 (was {options.NotificationPort}).");
        }

        if (string.IsNullOrWhiteSpace(options.BindAddress))
        {
            failures.Add($"{LMCacheOptions.SectionName}:BindAddress must not be empty.");
        }

        if (options.InitPort is < 1 or > 65535)
        {
            failures.Add($"{LMCacheOptions.SectionName}:InitPort must be between 1 and 65535 (was {options.InitPort}).");
        }

        if (options.AllocPort is < 1 or > 65535)
        {
            failures.Add($"{LMCacheOptions.SectionName}:AllocPort must be between 1 and 65535 (was {options.AllocPort}).");
        }

        if (options.Ranks is < 1 or > 64)
        {
            failures.Add($"{LMCacheOptions.SectionName}:Ranks must be between 1 and 64 (was {options.Ranks}).");
        }

        if (!(options.KvReadyTimeoutSeconds > 0))
        {
            failures.Add($"{LMCacheOptions.SectionName}:KvReadyTimeoutSeconds must be positive (was {options.KvReadyTimeoutSeconds}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
