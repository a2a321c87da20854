using System.Net;
using Microsoft.Extensions.ServiceDiscovery;

namespace PdApp.Proxy.Routing.Discovery;

/// <summary>Turns resolved service-discovery endpoints into base URIs.</summary>
internal static class EndpointUris
{
    /// <summary>
    /// The base URI for <paramref name="endpoint"/>, keeping the configured address's scheme (the
    /// first of <c>https+http</c>-style lists) and path.
    /// </summary>
    public static Uri? ToBaseUri(ServiceEndpoint endpoint, Uri configured)
    {
        var scheme = configured.Scheme.Split('+')[0];
        var builder = endpoint.EndPoint switch
        {
            UriEndPoint { Uri: var uri } => new UriBuilder(uri),
            IPEndPoint ip => new UriBuilder(scheme, ip.Address.ToString(), ip.Port),
            DnsEndPoint dns => new UriBuilder(scheme, dns.Host, dns.Port == 0 ? -1 : dns.Port),
            _ => null,
        };
        if (builder is null)
        {
            return null;
        }

        if (builder.Path is "" or "/")
        {
            builder.Path = configured.AbsolutePath;
        }

        if (!builder.Path.EndsWith('/'))
        {
            builder.Path += "/";
        }

        return builder.Uri;
    }
}
