using System.Collections.Frozen;
using System.Diagnostics;
using System.Net.Http.Headers;
using PdApp.Protocol;

namespace PdApp.Proxy.Pipeline.Forwarding;

/// <summary>
/// The headers every upstream call carries, the same for prefill and decode: the instances' own
/// API key (never the client's, which is the proxy's key), the upstream request id, and only the
/// client headers in <see cref="ForwardedClientHeaders"/>. Cookies, the client's
/// <c>Authorization</c>, <c>Host</c>, forwarding and custom headers stay at the proxy. The caller's trace
/// context (<c>traceparent</c>, <c>tracestate</c>, <c>baggage</c>) passes only while the proxy records no
/// activity of its own (nothing traces it): then the engines continue the caller's trace; with an activity,
/// HttpClient writes the proxy's context instead (it never overwrites a header that is already there), so the
/// engines' spans sit under the proxy's prefill and decode spans.
/// </summary>
internal static class UpstreamHeaders
{
    /// <summary>The client request headers passed on to instances (content negotiation and client identification).</summary>
    public static readonly FrozenSet<string> ForwardedClientHeaders =
        FrozenSet.ToFrozenSet<string>(["Accept", "Accept-Language", "User-Agent"], StringComparer.OrdinalIgnoreCase);

    public static void Apply(HttpRequestMessage request, string upstreamRequestId, string? upstreamApiKey)
    {
        request.Headers.Remove(PdHeaders.RequestId);
        request.Headers.TryAddWithoutValidation(PdHeaders.RequestId, upstreamRequestId);
        request.Headers.Authorization = string.IsNullOrEmpty(upstreamApiKey)
            ? null
            : new AuthenticationHeaderValue("Bearer", upstreamApiKey);
    }

    /// <summary>Copies the allowed client headers onto a request the proxy built itself (prefill).</summary>
    public static void CopyAllowed(IHeaderDictionary? clientHeaders, HttpRequestMessage request)
    {
        if (clientHeaders is null)
        {
            return;
        }

        foreach (var name in ForwardedClientHeaders)
        {
            Copy(name);
        }

        if (Activity.Current is null)
        {
            foreach (var name in DistributedContextPropagator.Current.Fields)
            {
                Copy(name);
            }
        }

        void Copy(string name)
        {
            if (clientHeaders.TryGetValue(name, out var values) && values.Count > 0)
            {
                request.Headers.TryAddWithoutValidation(name, values.ToString());
            }
        }
    }
}
