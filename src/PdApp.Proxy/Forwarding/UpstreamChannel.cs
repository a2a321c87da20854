using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.ServiceDiscovery.Http;
using PdApp.Proxy.Options;
using Yarp.ReverseProxy.Forwarder;

namespace PdApp.Proxy.Forwarding;

/// <summary>
/// The one long-lived HTTP channel to every instance, shared by prefill calls and the decode
/// relay: a <see cref="SocketsHttpHandler"/> set up for proxying (no redirects, no decompression,
/// no cookies, no system proxy, trace context propagated) behind service discovery, so
/// <c>http://prefill-0</c> style addresses resolve. Not an <c>IHttpClientFactory</c> client: the
/// standard resilience handler's 10 s attempt timeout would cut token streams.
/// </summary>
public sealed class UpstreamChannel : IDisposable
{
    /// <summary>Creates the channel.</summary>
    /// <param name="options">The proxy options (timeouts).</param>
    /// <param name="discovery">Service discovery, when registered.</param>
    public UpstreamChannel(IOptions<ProxyOptions> options, IServiceDiscoveryHttpMessageHandlerFactory? discovery = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var timeouts = options.Value.Timeouts;
        var sockets = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = timeouts.Connect,
            // Instances come and go (scaling, registry); do not pin DNS answers forever.
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ActivityHeadersPropagator = DistributedContextPropagator.Current,
        };
        Invoker = new HttpMessageInvoker(discovery?.CreateHandler(sockets) ?? sockets, disposeHandler: true);

        // ActivityTimeout is reset by every chunk: an idle timeout, right for token streams (not a
        // total). It is the decode idle timeout plus a little grace so that on event streams the
        // SseGuardStream, which enforces the same idle timeout, fires first and can end the stream
        // with an in-band error event instead of YARP resetting the client connection.
        StreamingDecodeConfig = DecodeConfig(timeouts.DecodeIdle + ActivityGrace(timeouts.DecodeIdle));

        // A non-streaming D is silent for the whole generation: its bound is a total.
        NonStreamingDecodeConfig = DecodeConfig(timeouts.DecodeNonStreaming);
    }

    /// <summary>The shared invoker (never an <see cref="HttpClient"/>: YARP needs unbuffered responses).</summary>
    public HttpMessageInvoker Invoker { get; }

    /// <summary>The forwarding settings of streaming decode relays.</summary>
    public ForwarderRequestConfig StreamingDecodeConfig { get; }

    /// <summary>The forwarding settings of non-streaming decode relays.</summary>
    public ForwarderRequestConfig NonStreamingDecodeConfig { get; }

    /// <summary>The base address of <paramref name="baseAddress"/> without a trailing slash (YARP's destination prefix).</summary>
    /// <param name="baseAddress">An instance's base address.</param>
    /// <returns>The prefix.</returns>
    public static string DestinationPrefix(Uri baseAddress)
    {
        ArgumentNullException.ThrowIfNull(baseAddress);
        return baseAddress.AbsoluteUri.TrimEnd('/');
    }

    private static ForwarderRequestConfig DecodeConfig(TimeSpan activityTimeout) => new()
    {
        ActivityTimeout = activityTimeout,
        Version = HttpVersion.Version11,
        VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        AllowResponseBuffering = false,
    };

    private static TimeSpan ActivityGrace(TimeSpan idle) => TimeSpan.FromTicks(Math.Min(idle.Ticks, TimeSpan.FromSeconds(5).Ticks));

    /// <inheritdoc />
    public void Dispose() => Invoker.Dispose();
}
