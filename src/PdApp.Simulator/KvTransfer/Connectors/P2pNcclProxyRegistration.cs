using MessagePack;
using Microsoft.Extensions.Logging;
using NetMQ;
using NetMQ.Sockets;

namespace PdApp.Simulator.KvTransfer.Connectors;

/// <summary>
/// P2pNccl service discovery, as vLLM's P2pNcclEngine.ping does: a ZeroMQ DEALER whose identity is
/// the instance's <c>zmq_address</c> connects to <c>tcp://proxy_ip:proxy_port</c> and sends, every
/// 3 s, one frame holding a msgpack map <c>{"type": "P"|"D", "http_address", "zmq_address"}</c>. The
/// proxy's ROUTER forgets an instance it has not heard from for a few seconds.
/// </summary>
internal sealed partial class P2pNcclProxyRegistration(
    string proxyEndpoint,
    string type,
    Func<string?> httpAddress,
    Func<string> zmqAddress,
    ILogger<P2pNcclProxyRegistration> logger) : IAsyncDisposable
{
    /// <summary>vLLM's ping interval.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(3);

    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    /// <summary>Starts pinging in the background.</summary>
    public void Start() => _loop = Task.Run(() => RunAsync(_stopping.Token));

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        // The socket lives on this one loop: NetMQ sockets are not thread-safe.
        using var socket = new DealerSocket();
        socket.Options.Identity = System.Text.Encoding.UTF8.GetBytes(zmqAddress());
        socket.Options.Linger = TimeSpan.Zero;

        // Unsent pings are stale; keep at most a few while the proxy is away.
        socket.Options.SendHighWatermark = 4;
        socket.Connect(proxyEndpoint);
        LogStarted(proxyEndpoint, type, zmqAddress());

        using var timer = new PeriodicTimer(Interval);
        do
        {
            // The HTTP port is known once Kestrel listens; until then there is nothing to advertise.
            if (httpAddress() is not { } http)
            {
                continue;
            }

            var message = MessagePackSerializer.Serialize(new Dictionary<string, string>
            {
                ["type"] = type,
                ["http_address"] = http,
                ["zmq_address"] = zmqAddress(),
            });
            if (!socket.TrySendFrame(TimeSpan.Zero, message))
            {
                LogBackedUp(proxyEndpoint);
            }
        }
        while (await WaitAsync(timer, cancellationToken).ConfigureAwait(false));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Registering with the P2pNccl proxy {Proxy} as {Type} (zmq {ZmqAddress}) every 3 s")]
    private partial void LogStarted(string proxy, string type, string zmqAddress);

    [LoggerMessage(Level = LogLevel.Debug, Message = "P2pNccl proxy {Proxy} not reachable; ping dropped")]
    private partial void LogBackedUp(string proxy);
}
