using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NetMQ;
using NetMQ.Sockets;
using PdApp.Protocol.KvEvents;
using PdApp.Simulator.Configuration;
using PdApp.Simulator.Scheduling;

namespace PdApp.Simulator.KvEvents;

/// <summary>
/// vLLM's <c>ZmqEventPublisher</c> (vllm/distributed/kv_events.py): a PUB socket sends each batch of
/// prefix cache events as <c>[topic, seq (8 bytes big-endian), msgpack KVEventBatch]</c>, the last
/// <c>buffer_steps</c> batches are kept, and an optional ROUTER socket replays them from a requested
/// sequence number. The endpoint is bound when it holds <c>*</c> (vLLM's rule), else connected;
/// <c>tcp://*:0</c> binds a free port (simulator only; <see cref="Endpoint"/> tells which).
/// Sockets live on one poller thread, as NetMQ sockets are not thread-safe.
/// </summary>
internal sealed partial class ZmqKvEventPublisher : IKvEventSink, IHostedService, IDisposable
{
    private const int DefaultBufferSteps = 10_000;
    private const int DefaultHwm = 100_000;

    private readonly ILogger<ZmqKvEventPublisher> _logger;
    private readonly TimeProvider _time;
    private readonly byte[] _topic;
    private readonly int _bufferSteps;
    private readonly Queue<(long Sequence, byte[] Payload)> _buffer = new();
    private readonly PublisherSocket _pub;
    private readonly RouterSocket? _replay;
    private readonly NetMQQueue<KvEventBatch> _queue = new();
    private readonly NetMQPoller _poller;
    private long _nextSequence;
    private int _disposed;

    /// <summary>Creates the sockets (binding or connecting them now, so a bad endpoint fails start-up).</summary>
    public ZmqKvEventPublisher(SimulatorOptions options, TimeProvider time, ILogger<ZmqKvEventPublisher> logger)
    {
        var config = options.KvEvents ?? throw new InvalidOperationException("--kv-events-config is not set.");
        _logger = logger;
        _time = time;
        _topic = System.Text.Encoding.UTF8.GetBytes(config.Topic ?? string.Empty);
        _bufferSteps = config.BufferSteps ?? DefaultBufferSteps;
        _pub = new PublisherSocket();
        _pub.Options.SendHighWatermark = config.Hwm ?? DefaultHwm;
        Endpoint = Attach(_pub, config.Endpoint ?? KvEventsConfig.DefaultEndpoint);
        if (config.ReplayEndpoint is { } replay)
        {
            _replay = new RouterSocket();
            ReplayEndpoint = Attach(_replay, replay);
            _replay.ReceiveReady += (_, e) => ServeReplay(e.Socket);
        }

        _queue.ReceiveReady += (_, e) =>
        {
            while (e.Queue.TryDequeue(out var batch, TimeSpan.Zero))
            {
                Send(batch);
            }
        };
        _poller = _replay is null ? new NetMQPoller { _queue } : new NetMQPoller { _queue, _replay };
    }

    /// <summary>The PUB endpoint, with the bound port when it was 0.</summary>
    public string Endpoint { get; }

    /// <summary>The ROUTER replay endpoint, if any.</summary>
    public string? ReplayEndpoint { get; }

    /// <summary>Batches published so far (the next sequence number).</summary>
    public long Published => Interlocked.Read(ref _nextSequence);

    /// <inheritdoc />
    public void Publish(IReadOnlyList<KvCacheEvent> events)
    {
        var ts = _time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;
        _queue.Enqueue(new KvEventBatch(ts, events, DataParallelRank: 0));
    }

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _poller.RunAsync("kv-events-publisher");
        LogStarted(Endpoint, ReplayEndpoint);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken)
    {
        if (_poller.IsRunning)
        {
            _poller.Stop();
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // Registered under three service types: the container disposes it once per registration.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_poller.IsRunning)
        {
            _poller.Stop();
        }

        _poller.Dispose();
        _queue.Dispose();
        _pub.Options.Linger = TimeSpan.Zero;
        _pub.Dispose();
        if (_replay is not null)
        {
            _replay.Options.Linger = TimeSpan.Zero;
            _replay.Dispose();
        }
    }

    private static string Attach(NetMQSocket socket, string endpoint)
    {
        if (!endpoint.Contains('*', StringComparison.Ordinal))
        {
            socket.Connect(endpoint);
            return endpoint;
        }

        if (endpoint.EndsWith(":0", StringComparison.Ordinal))
        {
            var port = socket.BindRandomPort(endpoint[..^2]);
            return KvEventsConfig.Tcp("*", port);
        }

        socket.Bind(endpoint);
        return endpoint;
    }

    private void Send(KvEventBatch batch)
    {
        var sequence = _nextSequence;
        var payload = KvEventCodec.Encode(batch);
        _pub.SendMoreFrame(_topic).SendMoreFrame(KvEventsWire.SequenceFrame(sequence)).SendFrame(payload);
        _buffer.Enqueue((sequence, payload));
        if (_buffer.Count > _bufferSteps)
        {
            _buffer.Dequeue();
        }

        Interlocked.Increment(ref _nextSequence);
    }

    private void ServeReplay(NetMQSocket router)
    {
        NetMQMessage? request = null;
        if (!router.TryReceiveMultipartMessage(ref request) || request is null || request.FrameCount != 3
            || !KvEventsWire.TryReadSequence(request[2].Buffer, out var start))
        {
            LogBadReplay(request?.FrameCount ?? 0);
            return;
        }

        var identity = request[0].ToByteArray();
        foreach (var (sequence, payload) in _buffer)
        {
            if (sequence >= start)
            {
                router.SendMoreFrame(identity).SendMoreFrameEmpty().SendMoreFrame(KvEventsWire.SequenceFrame(sequence)).SendFrame(payload);
            }
        }

        router.SendMoreFrame(identity).SendMoreFrameEmpty().SendMoreFrame(KvEventsWire.SequenceFrame(KvEventsWire.EndOfReplay)).SendFrameEmpty();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Publishing KV cache events on {Endpoint} (replay: {ReplayEndpoint})")]
    private partial void LogStarted(string endpoint, string? replayEndpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Invalid KV events replay request ({Frames} frames)")]
    private partial void LogBadReplay(int frames);
}
