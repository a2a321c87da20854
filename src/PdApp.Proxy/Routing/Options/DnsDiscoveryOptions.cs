using Microsoft.Extensions.Options;

namespace PdApp.Proxy.Routing.Options;

/// <summary>
/// Instances from DNS (<c>Pd:Discovery:Dns</c>): each role's headless service name resolves to one
/// A/AAAA record per ready pod, as in a Kubernetes deployment.
/// </summary>
public sealed class DnsDiscoveryOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Pd:Discovery:Dns";

    /// <summary><c>Pd:Discovery:Dns:Prefill</c>: prefill headless service name, e.g. <c>prefill.pdapp.svc.cluster.local</c>.</summary>
    public string? Prefill { get; set; }

    /// <summary><c>Pd:Discovery:Dns:Decode</c>: decode headless service name.</summary>
    public string? Decode { get; set; }

    /// <summary><c>Pd:Discovery:Dns:Both</c>: headless service name of <c>kv_both</c> instances.</summary>
    public string? Both { get; set; }

    /// <summary><c>Pd:Discovery:Dns:Port</c>: the instances' HTTP port, default 8000 (vLLM's default).</summary>
    public int Port { get; set; } = 8000;

    /// <summary><c>Pd:Discovery:Dns:Scheme</c>: http or https, default http.</summary>
    public string Scheme { get; set; } = "http";

    /// <summary><c>Pd:Discovery:Dns:IntervalSeconds</c>: re-resolution interval, default 10.</summary>
    public double IntervalSeconds { get; set; } = 10;

    /// <summary>Whether any role has a service name.</summary>
    public bool IsEnabled =>
        !string.IsNullOrWhiteSpace(Prefill) || !string.IsNullOrWhiteSpace(Decode) || !string.IsNullOrWhiteSpace(Both);
}

/// <summary>Validates <see cref="DnsDiscoveryOptions"/> at start-up.</summary>
internal sealed class DnsDiscoveryOptionsValidator : IValidateOptions<DnsDiscoveryOptions>
{
    public ValidateOptionsResult Validate(string? name, DnsDiscoveryOptions options)
    {
        var failures = new List<string>();
        foreach (var (key, host) in new[] { ("Prefill", options.Prefill), ("Decode", options.Decode), ("Both", options.Both) })
        {
            if (!string.IsNullOrWhiteSpace(host) && Uri.CheckHostName(host) != UriHostNameType.Dns)
            {
                failures.Add($"{DnsDiscoveryOptions.SectionName}:{key} must be a DNS name (was '{host}').");
            }
        }

        if (options.Port is < 1 or > 65535)
        {
            failures.Add($"{DnsDiscoveryOptions.SectionName}:Port must be between 1 and 65535 (was {options.Port}).");
        }

        if (options.Scheme is not ("http" or "https"))
        {
            failures.Add($"{DnsDiscoveryOptions.SectionName}:Scheme must be http or https (was '{options.Scheme}').");
        }

        if (!(options.IntervalSeconds > 0))
        {
            failures.Add($"{DnsDiscoveryOptions.SectionName}:IntervalSeconds must be positive (was {options.IntervalSeconds}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
