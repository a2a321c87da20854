using Microsoft.Extensions.Logging;
using NetMQ;
using NetMQ.Sockets;
using PdApp.Protocol.KvEvents;

namespace PdApp.Proxy.Routing.KvCache;

/// <summary>
/// Follows one instance's KV events: a SUB socket on its PUB endpoint, sequence numbers checked
/// for gaps (missed batches are asked from the ROUTER replay endpoint, as vLLM's example subscriber
/// does) and for restarts (a sequence going back means a new engine with an empty cache: its entries
/// are dropped). The sockets live on one dedicated thread (NetMQ sockets are not thread-safe).
/// </summary>
internal sealed partial class KvEventSubscriber : IDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan ReplayTimeout = TimeSpan.FromSeconds(2);

    private readonly string _instance;
    private readonly string _endpoint;
    private readonly string? _replayEndpoint;
    private readonly string _topic;
    private readonly KvBlockIndex _index;
    private readonly KvCacheMeter _meter;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private long _expected = -1;

    public KvEventSubscriber(
        string instance, string endpoint, string? replayEndpoint, string topic, KvBlockIndex index, KvCacheMeter meter, TimeProvider time, ILogger logger)
    {
        _instance = instance;
        _endpoint = endpoint;
        _replayEndpoint = replayEndpoint;
        _topic = topic;
        _index = index;
        _meter = meter;
        _time = time;
        _logger = logger;
        _loop = Task.Factory.StartNew(Run, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>The PUB endpoint followed.</summary>
    public string Endpoint => _endpoint;

    /// <summary>The replay endpoint, if any.</summary>
    public string? ReplayEndpoint => _replayEndpoint;

    /// <inheritdoc />
    public void Dispose()
    {
        _stopping.Cancel();
        _loop.Wait(TimeSpan.FromSeconds(5));
        _stopping.Dispose();
    }

    private void Run()
    {
        try
        {
            using var sub = new SubscriberSocket();
            sub.Options.Linger = TimeSpan.Zero;
            sub.Connect(_endpoint);
            sub.Subscribe(_topic);
            LogSubscribed(_instance, _endpoint, _replayEndpoint);
            var frames = new List<byte[]>(3);
            while (!_stopping.IsCancellationRequested)
            {
                if (!sub.TryReceiveMultipartBytes(PollInterval, ref frames))
                {
                    continue;
                }

                if (frames.Count != 3 || !KvEventsWire.TryReadSequence(frames[1], out var sequence))
                {
                    _meter.DecodeError();
                    continue;
                }

                OnBatch(sequence, frames[2]);
            }
        }
        catch (Exception ex) when (ex is NetMQException or ObjectDisposedException or InvalidOperationException)
        {
            LogSubscriberFailed(_instance, _endpoint, ex);
        }
    }

    private void OnBatch(long sequence, byte[] payload)
    {
        if (_expected >= 0 && sequence < _expected)
        {
            // The publisher's counter started over: a new engine process, whose cache starts empty.
            _meter.Restart();
            LogRestarted(_instance, _expected, sequence);
            _index.Clear(_instance);
            _expected = -1;
        }

        if (_expected < 0 && sequence > 0)
        {
            // First batch seen after this subscriber joined late: the engine's cache holds what the
            // earlier batches stored. Ask for them (the replay buffer keeps the last buffer_steps).
            Replay(from: 0, until: sequence);
        }
        else if (_expected >= 0 && sequence > _expected)
        {
            _meter.Gap();
            Replay(from: _expected, until: sequence);
        }

        Decode(payload);
        _expected = sequence + 1;
    }

    private void Replay(long from, long until)
    {
        if (_replayEndpoint is null)
        {
            _meter.Replay("unavailable");
            return;
        }

        try
        {
            using var dealer = new DealerSocket();
            dealer.Options.Linger = TimeSpan.Zero;
            dealer.Connect(_replayEndpoint);
            dealer.SendMoreFrameEmpty().SendFrame(KvEventsWire.SequenceFrame(from));
            var frames = new List<byte[]>(3);
            var replayed = 0;
            while (dealer.TryReceiveMultipartBytes(ReplayTimeout, ref frames))
            {
                if (frames.Count != 3 || !KvEventsWire.TryReadSequence(frames[1], out var sequence) || sequence == KvEventsWire.EndOfReplay)
                {
                    _meter.Replay(replayed > 0 ? "replayed" : "empty");
                    LogReplayed(_instance, from, until, replayed);
                    return;
                }

                if (sequence >= from && sequence < until)
                {
                    Decode(frames[2]);
                    replayed++;
                }
            }

            _meter.Replay("timeout");
        }
        catch (NetMQException ex)
        {
            _meter.Replay("failed");
            LogSubscriberFailed(_instance, _replayEndpoint, ex);
        }
    }

    private void Decode(byte[] payload)
    {
        if (!KvEventCodec.TryDecode(payload, out var batch, out var error))
        {
            _meter.DecodeError();
            LogUndecodable(_instance, error);
            return;
        }

        _index.Apply(_instance, batch!);
        _meter.BatchReceived((_time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0) - batch!.Timestamp);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Following KV events of {Instance} on {Endpoint} (replay: {ReplayEndpoint})")]
    private partial void LogSubscribed(string instance, string endpoint, string? replayEndpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "KV event subscriber of {Instance} on {Endpoint} failed")]
    private partial void LogSubscriberFailed(string instance, string endpoint, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "KV events of {Instance} restarted (expected sequence {Expected}, got {Sequence}): its entries were dropped")]
    private partial void LogRestarted(string instance, long expected, long sequence);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Replayed KV events of {Instance} from {From} to {Until}: {Count} batches")]
    private partial void LogReplayed(string instance, long from, long until, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Undecodable KV event batch from {Instance}: {Error}")]
    private partial void LogUndecodable(string instance, string error);
}
