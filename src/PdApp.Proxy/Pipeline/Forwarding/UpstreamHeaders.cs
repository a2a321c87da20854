using System.Diagnostics;
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

    /// <summary>
    /// Removes the caller's trace context headers that the relay copied from the client's request,
    /// when this request has its own activity: HttpClient then writes that activity's context
    /// (it never overwrites a header that is already there), so D's spans continue the proxy's
    /// trace under the decode span instead of hanging off the client's span. Without an activity
    /// (nothing traces here) the caller's headers pass through unchanged.
    /// </summary>
    /// <param name="request">The upstream request.</param>
    public static void DropCallersTraceContext(HttpRequestMessage request)
    {
        if (Activity.Current is null)
        {
            return;
        }

        foreach (var field in DistributedContextPropagator.Current.Fields)
        {
            request.Headers.Remove(field);
        }
    }
}
