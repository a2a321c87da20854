using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NetMQ;
using NetMQ.Sockets;
using PdApp.Protocol.LMCache;
using PdApp.Proxy.Messaging;

namespace PdApp.Proxy.Pipeline.Flows.LMCache;

/// <summary>
/// The socket LMCache senders push "KV ready" to, as LMCache's examples/disagg_prefill proxy binds it: a ZeroMQ
/// PULL socket on <c>Pd:LMCache:NotificationPort</c> receiving one <see cref="LMCacheProxyNotification"/> frame
/// per sender rank and request, handed to <see cref="KvReadyNotifications"/>. Malformed frames are logged
/// (at most once a minute) and dropped. Binding, the socket's thread and failing the proxy when the port
/// cannot be bound (senders would notify nobody and every decode would wait out its timeout) are
/// <see cref="ZmqListenerService{TSocket}"/>'s.
/// </summary>
internal sealed partial class KvReadyListener(
    KvReadyNotifications notifications,
    IOptions<LMCacheOptions> options,
    TimeProvider time,
    ILogger<KvReadyListener> logger) : ZmqListenerService<PullSocket>
{
    private static readonly TimeSpan MalformedLogInterval = TimeSpan.FromMinutes(1);

    private readonly LMCacheOptions _options = options.Value;
    private DateTimeOffset _lastMalformedLog = DateTimeOffset.MinValue;
    private long _malformed;

    /// <summary>Frames that were not notifications.</summary>
    public long Malformed => Interlocked.Read(ref _malformed);

    protected override bool Enabled => _options.Enabled;

    protected override string BindAddress => _options.BindAddress;

    protected override int Port => _options.EffectivePort;

    protected override PullSocket CreateSocket()
    {
        var pull = new PullSocket();
        pull.Options.Linger = TimeSpan.Zero;

        // A request id is far below this; larger frames are not notifications.
        pull.Options.MaxMsgSize = 4096;
        return pull;
    }

    protected override void Poll(PullSocket socket)
    {
        if (socket.TryReceiveFrameBytes(PollInterval, out var frame))
        {
            Handle(frame);
        }
    }

    protected override void OnListening(int port) => LogListening(_options.BindAddress, port);

    protected override void OnFailed(Exception exception) => LogFailed(exception, _options.BindAddress, _options.EffectivePort);

    private void Handle(byte[] frame)
    {
        if (LMCacheProxyNotification.TryParse(frame, out var notification, out var error))
        {
            if (!notifications.Signal(notification!.RequestId))
            {
                LogUnmatched(notification.RequestId);
            }

            return;
        }

        Interlocked.Increment(ref _malformed);
        var now = time.GetUtcNow();
        if (now - _lastMalformedLog >= MalformedLogInterval)
        {
            _lastMalformedLog = now;
            LogMalformed(error, Malformed);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "LMCache KV-ready notifications: listening on {BindAddress}:{Port}")]
    private partial void LogListening(string bindAddress, int port);

    [LoggerMessage(Level = LogLevel.Critical, Message = "LMCache KV-ready notifications: cannot listen on {BindAddress}:{Port}")]
    private partial void LogFailed(Exception exception, string bindAddress, int port);

    [LoggerMessage(Level = LogLevel.Debug, Message = "LMCache KV-ready notification for {RequestId}, which no request waits for (late or duplicate)")]
    private partial void LogUnmatched(string requestId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "LMCache KV-ready notifications: dropped a frame that is not a ProxyNotif ({Error}); {Count} so far")]
    private partial void LogMalformed(string error, long count);
}
