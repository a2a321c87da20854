using System.Net;
using PdApp.Proxy.Routing.Discovery;

namespace PdApp.Tests.Proxy.Routing;

/// <summary>A DNS stand-in: each name resolves to the records last <see cref="Set"/> for it (none: NXDOMAIN).</summary>
internal sealed class FakeHostAddressResolver : IHostAddressResolver
{
    private readonly Dictionary<string, IPAddress[]> _records = new(StringComparer.OrdinalIgnoreCase);

    public void Set(string host, params string[] addresses)
    {
        lock (_records)
        {
            _records[host] = [.. addresses.Select(IPAddress.Parse)];
        }
    }

    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_records)
        {
            return Task.FromResult(_records.TryGetValue(host, out var addresses) ? addresses : []);
        }
    }
}
