using Microsoft.Extensions.Logging;
using NetMQ;
using NetMQ.Sockets;
using PdApp.Protocol.LMCache;

namespace PdApp.Simulator.KvTransfer.Connectors;

/// <summary>
/// An LMCache sender's side channel to the proxy (pd_backend.py <c>_init_sender</c>): a ZeroMQ PUSH socket
/// connected to <c>tcp://pd_proxy_host:pd_proxy_port</c> that sends one <see cref="LMCacheProxyNotification"/>
/// per rank when a request's last chunk reached the receiver.
/// </summary>
internal sealed partial class LmCacheProxyNotifier : IDisposable
{
    private static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(1);

    private readonly Lock _gate = new();
    private readonly PushSocket _socket;
    private readonly string _endpoint;
    private readonly ILogger _logger;

    /// <summary>Connects to the proxy (ZeroMQ connects lazily; messages queue until it listens).</summary>
    public LmCacheProxyNotifier(string host, int port, ILogger logger)
    {
        _endpoint = $"tcp://{host}:{port}";
        _logger = logger;
        _socket = new PushSocket();
        _socket.Options.Linger = TimeSpan.Zero;
        _socket.Options.SendHighWatermark = 1000;
        _socket.Connect(_endpoint);
    }

    /// <summary>Tells the proxy the KV of <paramref name="requestId"/> arrived, once per rank.</summary>
    public void Notify(string requestId, int ranks)
    {
        var frame = new LMCacheProxyNotification(requestId).ToMsgPack();
        lock (_gate)
        {
            for (var rank = 0; rank < ranks; rank++)
            {
                if (!_socket.TrySendFrame(SendTimeout, frame))
                {
                    LogNotDelivered(requestId, _endpoint);
                    return;
                }
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            _socket.Dispose();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "LMCache: the KV-ready notification for {RequestId} could not be queued for the proxy at {Endpoint}")]
    private partial void LogNotDelivered(string requestId, string endpoint);
}
