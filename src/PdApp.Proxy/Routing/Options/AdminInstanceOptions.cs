using System.Net;
using Microsoft.Extensions.Options;

namespace PdApp.Proxy.Routing.Options;

/// <summary>What the admin API may add (<c>Pd:Proxy:Admin</c>): instances are where real prompts go.</summary>
public sealed class AdminInstanceOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Pd:Proxy:Admin";

    /// <summary>The allowlist's key, for messages.</summary>
    public const string AllowedInstanceNetworksKey = SectionName + ":" + nameof(AllowedInstanceNetworks);

    /// <summary>
    /// <c>Pd:Proxy:Admin:AllowedInstanceNetworks:{i}</c>: host names, IP addresses or CIDR networks
    /// (<c>10.0.0.0/8</c>) an added instance's address must match. Empty (default): any host except
    /// link-local and cloud metadata addresses (169.254.0.0/16, fe80::/10, <c>metadata.google.internal</c>),
    /// which are accepted only when listed here.
    /// </summary>
    public IList<string> AllowedInstanceNetworks { get; } = [];

    /// <summary>
    /// <c>Pd:Proxy:Admin:SendUpstreamKey</c>: whether instances added through the admin API get
    /// <c>Pd:UpstreamApiKey</c>, default false (an admin key that leaked must not also leak the engines' key).
    /// </summary>
    public bool SendUpstreamKey { get; set; }
}

/// <summary>Validates <see cref="AdminInstanceOptions"/> at start-up.</summary>
internal sealed class AdminInstanceOptionsValidator : IValidateOptions<AdminInstanceOptions>
{
    public ValidateOptionsResult Validate(string? name, AdminInstanceOptions options)
    {
        var failures = new List<string>();
        for (var i = 0; i < options.AllowedInstanceNetworks.Count; i++)
        {
            var entry = options.AllowedInstanceNetworks[i];
            if (string.IsNullOrWhiteSpace(entry)
                || (entry.Contains('/', StringComparison.Ordinal) && !IPNetwork.TryParse(entry, out _))
                || Uri.CheckHostName(entry) == UriHostNameType.Unknown && !entry.Contains('/', StringComparison.Ordinal))
            {
                failures.Add($"{AdminInstanceOptions.AllowedInstanceNetworksKey}:{i} must be a host name, an IP address or a CIDR network (was '{entry}').");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
