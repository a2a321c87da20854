using System.Net;
using System.Net.Sockets;

namespace PdApp.Hosting.Topology;

/// <summary>
/// Before the app host starts anything, checks that every port the topology will bind on this machine is
/// free. A port already taken would otherwise fail silently: the proxy shows "Unhealthy" because its
/// health check reaches the other server, and the README's curl talks to that server too.
/// </summary>
public static class PdPortPreflight
{
    /// <summary>The ports this machine must have free for <paramref name="options"/> on <paramref name="backend"/>.</summary>
    /// <param name="options">The validated options.</param>
    /// <param name="backend">The resolved backend.</param>
    /// <returns>The claims that bind on this host: all for the simulator and host networking, published ports for containers.</returns>
    public static IReadOnlyList<PdPortClaim> HostClaims(PdOptions options, PdBackend backend)
    {
        ArgumentNullException.ThrowIfNull(options);
        var claims = PdPortClaims.For(options, PdLayout.Create(options));
        return backend == PdBackend.Vllm && !options.HostNetwork ? [.. claims.Where(c => c.PublishedByContainers)] : claims;
    }

    /// <summary>One message per claimed port that is already in use, naming the port, its holder when known, and the setting.</summary>
    /// <param name="claims">The ports to check.</param>
    /// <param name="isInUse">Tells whether a port is taken; default: try to listen on it on both loopbacks.</param>
    /// <param name="describeHolder">Names the process holding a port, or null; default: from <c>/proc</c> on Linux.</param>
    /// <returns>The failures; empty when every port is free.</returns>
    public static IReadOnlyList<string> FindPortsInUse(
        IEnumerable<PdPortClaim> claims, Func<int, bool>? isInUse = null, Func<int, string?>? describeHolder = null)
    {
        ArgumentNullException.ThrowIfNull(claims);
        isInUse ??= IsInUse;
        describeHolder ??= PortHolderLookup.Describe;
        var failures = new List<string>();
        foreach (var claim in claims.DistinctBy(c => c.Port))
        {
            if (!isInUse(claim.Port))
            {
                continue;
            }

            var holder = describeHolder(claim.Port) is { } name ? $" by {name}" : string.Empty;
            failures.Add($"Port {claim.Port} for {claim.Owner} is already in use{holder}; stop that process or choose another port with --{claim.Setting}=<port>.");
        }

        return failures;
    }

    /// <summary>Whether something already listens on <paramref name="port"/> on loopback (IPv4, or IPv6 where available).</summary>
    /// <param name="port">The port.</param>
    public static bool IsInUse(int port)
    {
        return Taken(IPAddress.Loopback) || (Socket.OSSupportsIPv6 && Taken(IPAddress.IPv6Loopback));

        bool Taken(IPAddress address)
        {
            using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);

            // As Kestrel does: connections of an earlier run in TIME_WAIT do not count, a listener does.
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            try
            {
                socket.Bind(new IPEndPoint(address, port));
                socket.Listen();
                return false;
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
            {
                return true;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressNotAvailable)
            {
                // No IPv6 loopback configured: nothing can listen there either.
                return false;
            }
        }
    }
}
