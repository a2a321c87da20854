using System.Net;
using System.Net.Sockets;
using PdApp.Proxy.Routing.Options;

namespace PdApp.Proxy.Endpoints.Admin;

/// <summary>
/// Which addresses the admin API accepts for a new instance: no <c>user:password@</c> (it would be
/// shown by <c>GET /admin/instances</c>), and either a host in <c>Pd:Proxy:Admin:AllowedInstanceNetworks</c>
/// or, without that list, anything but link-local and cloud metadata addresses, which would turn the
/// proxy into a way to reach the host's credentials service.
/// </summary>
internal static class InstanceAddressPolicy
{
    private static readonly IPNetwork LinkLocalV4 = IPNetwork.Parse("169.254.0.0/16");

    // Names that resolve to the metadata service on the major clouds.
    private static readonly HashSet<string> MetadataHosts = new(StringComparer.OrdinalIgnoreCase)
    {
        "metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal",
    };

    /// <summary>Why <paramref name="address"/> is refused, or null.</summary>
    public static string? Check(Uri address, AdminInstanceOptions options)
    {
        if (!string.IsNullOrEmpty(address.UserInfo))
        {
            return "'address' must not carry credentials (user:password@).";
        }

        var host = address.DnsSafeHost.TrimEnd('.');
        var ip = IPAddress.TryParse(host, out var parsed) ? (parsed.IsIPv4MappedToIPv6 ? parsed.MapToIPv4() : parsed) : null;
        if (options.AllowedInstanceNetworks.Count > 0)
        {
            return options.AllowedInstanceNetworks.Any(entry => Matches(entry, host, ip))
                ? null
                : $"'address' host {host} is not in {AdminInstanceOptions.AllowedInstanceNetworksKey}.";
        }

        var linkLocal = ip is not null && (ip.AddressFamily == AddressFamily.InterNetwork ? LinkLocalV4.Contains(ip) : ip.IsIPv6LinkLocal);
        return linkLocal || MetadataHosts.Contains(host)
            ? $"'address' host {host} is a link-local or cloud metadata address; list it in {AdminInstanceOptions.AllowedInstanceNetworksKey} to allow it."
            : null;
    }

    private static bool Matches(string entry, string host, IPAddress? ip)
    {
        if (entry.Contains('/', StringComparison.Ordinal))
        {
            return ip is not null && IPNetwork.TryParse(entry, out var network) && network.Contains(ip);
        }

        return IPAddress.TryParse(entry, out var allowed)
            ? ip is not null && allowed.Equals(ip)
            : string.Equals(entry.TrimEnd('.'), host, StringComparison.OrdinalIgnoreCase);
    }
}
