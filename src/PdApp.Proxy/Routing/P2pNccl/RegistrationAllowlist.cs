using System.Net;

namespace PdApp.Proxy.Routing.P2pNccl;

/// <summary>The networks a P2pNccl registration's addresses must lie in (<c>Pd:Registry:AllowedNetworks</c>).</summary>
internal sealed class RegistrationAllowlist
{
    private readonly IPNetwork[] _networks;

    public RegistrationAllowlist(IEnumerable<string> entries) =>
        _networks = [.. entries.Select(entry => TryParseEntry(entry, out var network) ? network : throw new ArgumentException($"Not a network: {entry}", nameof(entries)))];

    /// <summary>Whether the list is empty (everything allowed).</summary>
    public bool AllowsAll => _networks.Length == 0;

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

    /// <summary>Whether <paramref name="hostPort"/>'s host is an IP address inside the list (host names never are).</summary>
    public bool Allows(string hostPort)
    {
        if (AllowsAll)
        {
            return true;
        }

        if (!HostPort.TryParse(hostPort, out var host, out _) || !IPAddress.TryParse(host.Trim('[', ']'), out var address))
        {
            return false;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return _networks.Any(network => network.Contains(address));
    }
}
