using System.Net;

namespace PdApp.Proxy.Routing.Discovery;

/// <summary>Resolves a host name to its addresses (all A and AAAA records); replaceable in tests.</summary>
public interface IHostAddressResolver
{
    /// <summary>Resolves <paramref name="host"/>.</summary>
    /// <param name="host">The DNS name.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <returns>The addresses; empty when the name does not exist.</returns>
    Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken);
}
