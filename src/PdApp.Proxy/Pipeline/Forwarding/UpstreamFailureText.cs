using System.Net.Sockets;

namespace PdApp.Proxy.Pipeline.Forwarding;

/// <summary>
/// Describes a transport failure without the text of the exception, which names the instance's
/// IP and port (<c>Connection refused (10.0.0.7:8100)</c>): the messages that reach clients name
/// instances by name only. The log line carries the instance name as well.
/// </summary>
internal static class UpstreamFailureText
{
    public static string Describe(Exception exception) => exception switch
    {
        HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } or { InnerException: SocketException } => "connection failed",
        HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError } => "name resolution failed",
        HttpRequestException { HttpRequestError: HttpRequestError.ResponseEnded } or HttpIOException { HttpRequestError: HttpRequestError.ResponseEnded } => "the response ended early",
        HttpRequestException { HttpRequestError: HttpRequestError.InvalidResponse } or HttpIOException { HttpRequestError: HttpRequestError.InvalidResponse } => "invalid response",
        HttpRequestException { HttpRequestError: HttpRequestError.SecureConnectionError } => "TLS handshake failed",
        IOException => "the connection broke off",
        _ => "transport error",
    };
}
