using Aspire.Hosting.ApplicationModel;
using PdApp.Hosting;
using PdApp.Protocol.KvEvents;

namespace Aspire.Hosting;

// KV cache events: --kv-events-config with the engine's own PUB and replay ports, as endpoints.
public static partial class VllmBuilderExtensions
{
    /// <summary>
    /// Publishes the engine's prefix-cache KV events as vLLM does (<c>--enable-prefix-caching</c> and
    /// <c>--kv-events-config {"enable_kv_cache_events":true,"publisher":"zmq","endpoint":"tcp://*:PORT","replay_endpoint":...}</c>,
    /// vllm/config/kv_events.py), and declares the sockets as the endpoints <see cref="VllmResource.KvEventsEndpointName"/>
    /// and <see cref="VllmResource.KvEventsReplayEndpointName"/> so the dashboard shows them and the proxy can reference them.
    /// </summary>
    /// <param name="builder">The vLLM resource builder.</param>
    /// <param name="port">The PUB port (vLLM's default 5557); give each engine on one host its own.</param>
    /// <param name="replayPort">The ROUTER replay port, or null for none.</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> WithKvEvents(this IResourceBuilder<VllmResource> builder, int port = KvEventsConfig.DefaultPort, int? replayPort = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.WithKvEventsEndpoints(port, replayPort);
        builder.Resource.Arguments.KvEventsConfigJson = KvEventsConfigFor(port, replayPort).ToJson();
        return builder;
    }

    /// <summary>
    /// Declares the KV event sockets of a vLLM-compatible server (a container or a simulator project) as TCP endpoints
    /// <see cref="VllmResource.KvEventsEndpointName"/> and <see cref="VllmResource.KvEventsReplayEndpointName"/>, on fixed
    /// ports (the engine binds them itself, so they are not proxied), labelled in the dashboard.
    /// </summary>
    /// <typeparam name="T">A resource with endpoints.</typeparam>
    /// <param name="builder">The resource builder.</param>
    /// <param name="port">The PUB port.</param>
    /// <param name="replayPort">The ROUTER replay port, or null for none.</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<T> WithKvEventsEndpoints<T>(this IResourceBuilder<T> builder, int port, int? replayPort = null)
        where T : IResourceWithEndpoints
    {
        ArgumentNullException.ThrowIfNull(builder);
        CheckPort(port, nameof(port));
        builder
            .WithEndpoint(port: port, targetPort: port, scheme: "tcp", name: VllmResource.KvEventsEndpointName, isProxied: false)
            .WithUrlForEndpoint(VllmResource.KvEventsEndpointName, url => url.DisplayText = "KV events (ZeroMQ PUB)");
        if (replayPort is { } replay)
        {
            CheckPort(replay, nameof(replayPort));
            if (replay == port)
            {
                throw new ArgumentException($"The replay port must differ from the events port ({port}).", nameof(replayPort));
            }

            builder
                .WithEndpoint(port: replay, targetPort: replay, scheme: "tcp", name: VllmResource.KvEventsReplayEndpointName, isProxied: false)
                .WithUrlForEndpoint(VllmResource.KvEventsReplayEndpointName, url => url.DisplayText = "KV events replay (ZeroMQ ROUTER)");
        }

        return builder;
    }

    /// <summary>The <c>--kv-events-config</c> binding every interface on <paramref name="port"/> (and <paramref name="replayPort"/>).</summary>
    internal static KvEventsConfig KvEventsConfigFor(int port, int? replayPort) => new()
    {
        EnableKvCacheEvents = true,
        Publisher = KvEventsConfig.ZmqPublisher,

        // vLLM binds an endpoint holding "*" and connects to any other (vllm/distributed/kv_events.py).
        Endpoint = KvEventsConfig.Tcp("*", port),
        ReplayEndpoint = replayPort is { } replay ? KvEventsConfig.Tcp("*", replay) : null,
    };

    private static void CheckPort(int port, string name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port, name);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535, name);
    }
}
