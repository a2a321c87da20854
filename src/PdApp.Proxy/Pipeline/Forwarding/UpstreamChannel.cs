using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.ServiceDiscovery.Http;
using Yarp.ReverseProxy.Forwarder;

namespace PdApp.Proxy.Pipeline.Forwarding;

/// <summary>
/// The one long-lived HTTP channel to every instance, shared by prefill calls and the decode
/// relay: a <see cref="SocketsHttpHandler"/> set up for proxying (no redirects, no decompression,
/// no cookies, no system proxy, trace context propagated) behind service discovery, so
/// <c>http://prefill-0</c> style addresses resolve (IP-literal addresses skip the resolver). Not an <c>IHttpClientFactory</c> client: the
/// standard resilience handler's 10 s attempt timeout would cut token streams. Its timeouts come
/// from <see cref="UpstreamTimeouts"/>: the connect timeout here, the decode deadlines through
/// <see cref="UpstreamDeadlineHandler"/> and each relay's <see cref="DecodeWatchdog"/>.
/// </summary>
public sealed class UpstreamChannel : IDisposable
{
    /// <summary>Creates the channel.</summary>
    /// <param name="timeouts">The timeout policy.</param>
    /// <param name="discovery">Service discovery, when registered.</param>
    public UpstreamChannel(UpstreamTimeouts timeouts, IServiceDiscoveryHttpMessageHandlerFactory? discovery = null)
        : this(CreateSocketsHandler(timeouts), discovery)
    {
    }

    /// <summary>Creates the channel over <paramref name="transport"/> (tests pass an in-memory handler).</summary>
    /// <param name="transport">The innermost handler.</param>
    /// <param name="discovery">Service discovery, when registered.</param>
    public UpstreamChannel(HttpMessageHandler transport, IServiceDiscoveryHttpMessageHandlerFactory? discovery = null)
    {
        ArgumentNullException.ThrowIfNull(transport);
        HttpMessageHandler routed = discovery is null ? transport : new AddressLiteralBypassHandler(discovery.CreateHandler(transport), transport);
        Invoker = new HttpMessageInvoker(new UpstreamDeadlineHandler(routed), disposeHandler: true);
    }

    /// <summary>The shared invoker (never an <see cref="HttpClient"/>: YARP needs unbuffered responses).</summary>
    public HttpMessageInvoker Invoker { get; }

    /// <summary>
    /// The forwarding settings of decode relays. YARP's activity timeout is off: the relay's
    /// <see cref="DecodeWatchdog"/> is the one timer on D (a second, racing timer would reset the
    /// client's connection where the watchdog ends an event stream with an in-band error).
    /// </summary>
    public static ForwarderRequestConfig DecodeConfig { get; } = new()
    {
        ActivityTimeout = Timeout.InfiniteTimeSpan,
        Version = HttpVersion.Version11,
        VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        AllowResponseBuffering = false,
    };

    private static SocketsHttpHandler CreateSocketsHandler(UpstreamTimeouts timeouts)
    {
        ArgumentNullException.ThrowIfNull(timeouts);
        return new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = timeouts.Connect,
            // Instances come and go (scaling, registry); do not pin DNS answers forever.
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            // A response given up before its end is not read on to save its connection: the rest of a
            // token stream is the engine generating on, and a decode that died mid-stream would fail
            // the drain's read a second time (one more exception per stream, in the instant all its
            // streams migrate; RESULTS.md 5.7). Its connection closes instead.
            MaxResponseDrainSize = 0,
            ActivityHeadersPropagator = DistributedContextPropagator.Current,
        };
    }

    /// <inheritdoc />
    public void Dispose() => Invoker.Dispose();
}
