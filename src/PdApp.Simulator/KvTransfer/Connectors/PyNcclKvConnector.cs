using Microsoft.Extensions.Logging;
using PdApp.Protocol;
using PdApp.Simulator.KvTransfer.Transport;

namespace PdApp.Simulator.KvTransfer.Connectors;

/// <summary>
/// vLLM v0's PyNcclConnector (vllm/distributed/kv_transfer/kv_connector/simple_connector.py): strictly
/// one producer and one consumer in a group of <c>kv_parallel_size</c> rendezvoused at the producer's
/// <c>kv_ip:kv_port</c>. Neither is ready until the group has formed (vLLM blocks start-up; the
/// simulator answers <c>/health</c> 503 meanwhile). The producer keeps each prompt's KV in its lookup
/// buffer keyed by the prompt's tokens; the consumer asks the producer for its prompt's KV
/// (drop_select), which removes it from the buffer.
/// </summary>
internal sealed partial class PyNcclKvConnector : KvConnectorBase
{
    private readonly KvStore _buffer;
    private readonly KvTransportServer? _rendezvous;
    private readonly HashSet<string> _members = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger _logger;
    private readonly string _kvIp;
    private readonly int _kvPort;
    private readonly int _parallelSize;
    private Task? _joinLoop;
    private volatile bool _ready;
    private int _joinAttempts;

    /// <summary>Creates the connector.</summary>
    public PyNcclKvConnector(KvConnectorContext context)
        : base(context)
    {
        _logger = context.Loggers.CreateLogger<PyNcclKvConnector>();
        _kvIp = context.Config.KvIp ?? "127.0.0.1";
        _kvPort = context.Config.KvPort ?? 14579;
        _parallelSize = context.Config.KvParallelSize ?? 1;
        IsProducer = context.Role == KvRoles.Producer || (context.Role == KvRoles.Both && (context.Config.KvRank ?? 0) == 0);
        _buffer = new KvStore(context.Time, TimeSpan.FromSeconds(480), capacity: 10_000);
        if (IsProducer)
        {
            _rendezvous = new KvTransportServer("PyNccl rendezvous", HandleAsync, _logger);
        }
    }

    /// <inheritdoc />
    public override string Name => KvConnectorNames.PyNccl;

    /// <summary>Whether this instance is the group's producer (rank 0).</summary>
    public bool IsProducer { get; }

    /// <summary>The rendezvous port bound by the producer.</summary>
    public int RendezvousPort => _rendezvous?.Port ?? _kvPort;

    /// <inheritdoc />
    public override bool IsReady => _ready;

    /// <summary>How many times a consumer has asked the producer to join the group (answered or failed).</summary>
    public int JoinAttempts => Volatile.Read(ref _joinAttempts);

    /// <inheritdoc />
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (IsProducer)
        {
            _rendezvous!.Start(_kvIp, _kvPort);
            lock (_members)
            {
                _members.Add(Context.Identity.EngineId);
                _ready = _members.Count >= _parallelSize;
            }
        }
        else
        {
            _joinLoop = JoinAsync(_stopping.Token);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override bool ShouldConsume(KvRequest request) => !IsProducer;

    /// <inheritdoc />
    public override bool ShouldProduce(KvRequest request) => IsProducer;

    /// <inheritdoc />
    public override async Task<KvConsumeResult> TryConsumeAsync(KvRequest request, CancellationToken cancellationToken)
    {
        try
        {
            var reply = await KvTransportClient.SendAsync(_kvIp, _kvPort, new KvMessage { Op = "get", Key = request.PromptHash, Sender = Context.Identity.Name }, cancellationToken).ConfigureAwait(false);
            return Verify(request, reply.Ok ? reply.Record : null, $"producer {_kvIp}:{_kvPort}");
        }
        catch (IOException ex)
        {
            return KvConsumeResult.Miss(ex.Message);
        }
    }

    /// <inheritdoc />
    public override Task<KvProduceResult> ProduceAsync(KvRequest request, KvRecord record, CancellationToken cancellationToken)
    {
        _buffer.Put(request.PromptHash, record);
        return Task.FromResult(KvProduceResult.Done());
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_joinLoop is not null)
        {
            await _joinLoop.ConfigureAwait(false);
        }

        if (_rendezvous is not null)
        {
            await _rendezvous.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private async Task JoinAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250), Context.Time);
        do
        {
            try
            {
                var reply = await KvTransportClient.SendAsync(_kvIp, _kvPort, new KvMessage { Op = "join", Sender = Context.Identity.EngineId }, cancellationToken).ConfigureAwait(false);
                if (reply.Ok)
                {
                    _ready = true;
                    LogJoined(_kvIp, _kvPort, reply.Members ?? 0);
                    return;
                }
            }
            catch (IOException ex)
            {
                LogWaiting(_kvIp, _kvPort, ex.Message);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            finally
            {
                Interlocked.Increment(ref _joinAttempts);
            }

            try
            {
                await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
        while (true);
    }

    private ValueTask<KvMessage> HandleAsync(KvMessage message, CancellationToken cancellationToken)
    {
        switch (message)
        {
            case { Op: "join", Sender: { } member }:
                int count;
                lock (_members)
                {
                    _members.Add(member);
                    count = _members.Count;
                    _ready = count >= _parallelSize;
                }

                LogMemberJoined(member, count, _parallelSize);
                return ValueTask.FromResult(new KvMessage { Ok = true, Members = count });
            case { Op: "get", Key: { } key }:
                var record = _buffer.Get(key, take: true);
                return ValueTask.FromResult(record is null ? new KvMessage { Ok = false, Error = "no KV for these tokens" } : new KvMessage { Ok = true, Record = record });
            default:
                return ValueTask.FromResult(new KvMessage { Ok = false, Error = $"unsupported op '{message.Op}'" });
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Joined the PyNccl group at {Ip}:{Port} ({Members} members)")]
    private partial void LogJoined(string ip, int port, int members);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Waiting for the PyNccl producer at {Ip}:{Port}: {Error}")]
    private partial void LogWaiting(string ip, int port, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "PyNccl member {Member} joined ({Count}/{Size})")]
    private partial void LogMemberJoined(string member, int count, int size);
}
