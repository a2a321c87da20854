using System.Net;

namespace PdApp.Bench.Targets;

/// <summary>
/// The one <see cref="HttpClient"/> of a run: a <see cref="SocketsHttpHandler"/> without a
/// per-server connection cap (each concurrent stream holds a connection), no proxy, no
/// decompression, no cookies, and no client-wide timeout (each request has its own).
/// </summary>
internal static class BenchHttpClientFactory
{
    /// <summary>Creates the client.</summary>
    public static HttpClient Create()
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = int.MaxValue,
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            EnableMultipleHttp2Connections = true,
        };
        return new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }
}
