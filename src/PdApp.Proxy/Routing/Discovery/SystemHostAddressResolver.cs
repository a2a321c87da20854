using System.Net;
using System.Net.Sockets;

namespace PdApp.Proxy.Routing.Discovery;

/// <summary>
/// <see cref="IHostAddressResolver"/> over the operating system's resolver. A name that does not
/// exist resolves to no address: a Kubernetes headless service with no ready pod answers NXDOMAIN.
/// </summary>
internal sealed class SystemHostAddressResolver : IHostAddressResolver
{
    public async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        try
        {
            return await Dns.GetHostAddressesAsync(host, cancellationToken);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.HostNotFound or SocketError.NoData)
        {
            return [];
        }
    }
}
