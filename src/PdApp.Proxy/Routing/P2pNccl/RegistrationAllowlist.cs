using System.Net;

namespace PdApp.Proxy.Routing.P2pNccl;

/// <summary>
/// The networks a P2pNccl registration's addresses must lie in (<c>Pd:Registry:AllowedNetworks</c>): IP addresses,
/// CIDR networks, or host names matched exactly (containers announce themselves by name, <c>VLLM_HOST_IP=prefill-0</c>).
/// </summary>
internal sealed partial class RegistrationAllowlist
{
    private readonly IPNetwork[] _networks;
    private readonly HashSet<string> _hosts = new(StringComparer.OrdinalIgnoreCase);

    public RegistrationAllowlist(IEnumerable<string> entries)
    {
        var networks = new List<IPNetwork>();
        foreach (var entry in entries)
        {
            if (TryParseEntry(entry, out var network))
            {
                networks.Add(network);
            }
            else if (IsHostName(entry))
            {
                _hosts.Add(entry);
            }
            else
            {
                throw new ArgumentException($"Not a network or host name: {entry}", nameof(entries));
            }
        }

        _networks = [.. networks];
    }

    /// <summary>Whether the list is empty (everything allowed).</summary>
    public bool AllowsAll => _networks.Length == 0 && _hosts.Count == 0;

    /// <summary>Whether <paramref name="entry"/> is a DNS host name (letters, digits, '-' and '.').</summary>
    public static bool IsHostName(string? entry) => entry is { Length: > 0 and <= 253 } && HostNamePattern().IsMatch(entry);

    /// <summary>Parses an IP address (a /32 or /128) or a CIDR network.</summary>
    public static bool TryParseEntry(string? entry, out IPNetwork network)
    {
        network = default;
        if (string.IsNullOrWhiteSpace(entry))
        {
            return false;
        }

        if (IPNetwork.TryParse(entry, out network))
        {
            return true;
        }

        if (IPAddress.TryParse(entry, out var address))
        {
            network = new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }

        return false;
    }

    /// <summary>Whether <paramref name="hostPort"/>'s host is an IP address inside the list, or a host name listed as such.</summary>
    public bool Allows(string hostPort)
    {
        if (AllowsAll)
        {
            return true;
        }

        if (!HostPort.TryParse(hostPort, out var host, out _))
        {
            return false;
        }

        if (!IPAddress.TryParse(host.Trim('[', ']'), out var address))
        {
            return _hosts.Contains(host);
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return _networks.Any(network => network.Contains(address));
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex HostNamePattern();
}
