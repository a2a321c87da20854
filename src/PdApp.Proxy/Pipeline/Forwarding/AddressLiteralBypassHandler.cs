namespace PdApp.Proxy.Pipeline.Forwarding;

/// <summary>
/// Sends requests to IP-literal addresses (<c>http://10.0.0.7:8000</c>) straight to the transport
/// and every other host (<c>http://prefill-0</c>) through service discovery: an IP address names
/// its endpoint already, so resolving it per request would only cost time.
/// </summary>
internal sealed class AddressLiteralBypassHandler : HttpMessageHandler
{
    private readonly HttpMessageInvoker _discovery;
    private readonly HttpMessageInvoker _direct;

    /// <summary>Creates the handler.</summary>
    /// <param name="discovery">Service discovery's handler, wrapping <paramref name="transport"/> (disposed with this handler).</param>
    /// <param name="transport">The transport itself (disposed by <paramref name="discovery"/>).</param>
    public AddressLiteralBypassHandler(HttpMessageHandler discovery, HttpMessageHandler transport)
    {
        _discovery = new HttpMessageInvoker(discovery, disposeHandler: true);
        _direct = new HttpMessageInvoker(transport, disposeHandler: false);
    }

    /// <summary>Whether <paramref name="uri"/>'s host is an IP address.</summary>
    /// <param name="uri">The request's address.</param>
    /// <returns>Whether discovery can be skipped.</returns>
    public static bool IsAddressLiteral(Uri? uri) =>
        uri is { IsAbsoluteUri: true, HostNameType: UriHostNameType.IPv4 or UriHostNameType.IPv6 };

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        (IsAddressLiteral(request.RequestUri) ? _direct : _discovery).SendAsync(request, cancellationToken);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _discovery.Dispose();
        }

        base.Dispose(disposing);
    }
}
