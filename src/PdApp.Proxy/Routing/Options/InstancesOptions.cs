using Microsoft.Extensions.Options;
using PdApp.Protocol;

namespace PdApp.Proxy.Routing.Options;

/// <summary>The configured instances (<c>Pd:Instances</c>) and how often their addresses are re-resolved.</summary>
public sealed class InstancesOptions
{
    /// <summary><c>Pd:Instances</c>: the instances; may be empty when discovery (registry, DNS, admin API) supplies them.</summary>
    public List<ConfiguredInstance> Instances { get; set; } = [];

    /// <summary>
    /// <c>Pd:Discovery:RefreshSeconds</c>: how often configured addresses are re-resolved through
    /// service discovery, default 30.
    /// </summary>
    public double RefreshSeconds { get; set; } = 30;

    internal const string RefreshKey = "Pd:Discovery:RefreshSeconds";
}

/// <summary>Validates <see cref="InstancesOptions"/> at start-up, naming the offending <c>Pd:Instances:{i}</c> key.</summary>
internal sealed class InstancesOptionsValidator : IValidateOptions<InstancesOptions>
{
    public ValidateOptionsResult Validate(string? name, InstancesOptions options)
    {
        var failures = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Instances.Count; i++)
        {
            var entry = options.Instances[i];
            var key = $"{PdProxySettings.Instances}:{i}";
            if (string.IsNullOrWhiteSpace(entry.Name))
            {
                failures.Add($"{key}:{PdProxySettings.InstanceName} is required.");
            }
            else if (!names.Add(entry.Name))
            {
                failures.Add($"{key}:{PdProxySettings.InstanceName} '{entry.Name}' is used by another instance.");
            }

            if (!RoleParser.TryParse(entry.Role, out _))
            {
                failures.Add($"{key}:{PdProxySettings.InstanceRole} must be Prefill, Decode or Both (was '{entry.Role}').");
            }

            if (!Uri.TryCreate(entry.Address, UriKind.Absolute, out var address) || string.IsNullOrEmpty(address.Host))
            {
                failures.Add($"{key}:{PdProxySettings.InstanceAddress} must be an absolute URL such as http://prefill-0 or http://127.0.0.1:8100 (was '{entry.Address}').");
            }

            if (!string.IsNullOrEmpty(entry.KvAddress) && !HostPort.TryParse(entry.KvAddress, out _, out _))
            {
                failures.Add($"{key}:{PdProxySettings.InstanceKvAddress} must be host:port (was '{entry.KvAddress}').");
            }

            if (entry.KvAllocPort is < 1 or > 65535)
            {
                failures.Add($"{key}:{PdProxySettings.InstanceKvAllocPort} must be between 1 and 65535 (was {entry.KvAllocPort}).");
            }

            if (entry.KvRanks is < 1 or > 64)
            {
                failures.Add($"{key}:{PdProxySettings.InstanceKvRanks} must be between 1 and 64 (was {entry.KvRanks}).");
            }
        }

        if (!(options.RefreshSeconds > 0))
        {
            failures.Add($"{InstancesOptions.RefreshKey} must be positive (was {options.RefreshSeconds}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
