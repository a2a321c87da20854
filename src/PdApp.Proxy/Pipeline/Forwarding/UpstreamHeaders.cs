using System.Net.Http.Headers;
using PdApp.Protocol;

namespace PdApp.Proxy.Pipeline.Forwarding;

/// <summary>
/// The headers every upstream call carries: the instances' own API key (never the client's, which
/// is the proxy's key) and the upstream request id.
/// </summary>
internal static class UpstreamHeaders
{
    public static void Apply(HttpRequestMessage request, string upstreamRequestId, string? upstreamApiKey)
    {
        request.Headers.Remove(PdHeaders.RequestId);
        request.Headers.TryAddWithoutValidation(PdHeaders.RequestId, upstreamRequestId);
        request.Headers.Authorization = string.IsNullOrEmpty(upstreamApiKey)
            ? null
            : new AuthenticationHeaderValue("Bearer", upstreamApiKey);
    }
}
