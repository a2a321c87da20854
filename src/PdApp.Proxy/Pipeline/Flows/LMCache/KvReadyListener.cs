using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NetMQ;
using NetMQ.Sockets;
using PdApp.Protocol.LMCache;

namespace PdApp.Proxy.Pipeline.Flows.LMCache;

/// <summary>
/// The socket LMCache senders push "KV ready" to, as LMCache's examples/disagg_prefill proxy binds it: a ZeroMQ
/// PULL socket on <c>Pd:LMCache:NotificationPort</c> receiving one <see cref="LMCacheProxyNotification"/> frame
/// per sender rank and request, handed to <see cref="KvReadyNotifications"/>. Malformed frames are logged
/// (at most once a minute) and dropped. The socket lives on one dedicated thread (NetMQ sockets are not
/// thread-safe). A port that cannot be bound fails the proxy: senders would notify nobody and every decode
/// would wait out its timeout.
/// </summary>
internal sealed partial class KvReadyListener(
    KvReadyNotifications notifications,
    IOptions<LMCacheOptions> options,
    TimeProvider time,
    ILogger<KvReadyListener> logger) : BackgroundService
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MalformedLogInterval = TimeSpan.FromMinutes(1);

    private readonly LMCacheOptions _options = options.Value;
    private readonly TaskCompletionSource<int> _bound = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private DateTimeOffset _lastMalformedLog = DateTimeOffset.MinValue;
    private long _malformed;

    /// <summary>Completes with the bound port once the socket listens (useful with port 0).</summary>
    public Task<int> BoundPort => _bound.Task;

    /// <summary>Frames that were not notifications.</summary>
    public long Malformed => Interlocked.Read(ref _malformed);

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            _bound.TrySetCanceled(CancellationToken.None);
            return Task.CompletedTask;
        }

        return Task.Factory.StartNew(() => Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    private void Run(CancellationToken stoppingToken)
    {
        try
        {
            using var pull = new PullSocket();
            pull.Options.Linger = TimeSpan.Zero;

            // A request id is far below this; larger frames are not notifications.
            pull.Options.MaxMsgSize = 4096;
            var address = $"tcp://{_options.BindAddress}";
            int port;
            if (_options.EffectivePort == 0)
            {
                port = pull.BindRandomPort(address);
            }
            else
            {
                port = _options.EffectivePort;
                pull.Bind($"{address}:{port.ToString(CultureInfo.InvariantCulture)}");
            }

            _bound.TrySetResult(port);
            LogListening(_options.BindAddress, port);
            while (!stoppingToken.IsCancellationRequested)
            {
                if (pull.TryReceiveFrameBytes(PollInterval, out var frame))
                {
                    Handle(frame);
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _bound.TrySetException(ex);
            LogFailed(ex, _options.BindAddress, _options.EffectivePort);
            throw;
        }
        finally
        {
            _bound.TrySetCanceled(CancellationToken.None);
        }
    }

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
