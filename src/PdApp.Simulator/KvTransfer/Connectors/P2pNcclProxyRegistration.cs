using Microsoft.Extensions.Logging;
using NetMQ;
using NetMQ.Sockets;
using PdApp.Protocol;
using PdApp.Protocol.P2pNccl;

namespace PdApp.Simulator.KvTransfer.Connectors;

/// <summary>
/// P2pNccl service discovery, as vLLM's P2pNcclEngine.ping does: a ZeroMQ DEALER whose identity is
/// the instance's <c>zmq_address</c> connects to <c>tcp://proxy_ip:proxy_port</c> and sends, every
/// 3 s, one <see cref="P2pNcclRegistrationMessage"/> frame. The proxy's ROUTER forgets an instance
/// it has not heard from for a few seconds. With a shared secret
/// (<see cref="P2pNcclRegistrationMessage.SharedSecretVariable"/>, the proxy's <c>Pd:Registry:SharedSecret</c>)
/// every frame is signed, a PdApp extension vLLM's engines do not send.
/// </summary>
internal sealed partial class P2pNcclProxyRegistration(
    string proxyEndpoint,
    PdRole role,
    Func<string?> httpAddress,
    Func<string> zmqAddress,
    string? sharedSecret,
    ILogger<P2pNcclProxyRegistration> logger) : IAsyncDisposable
{
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
        LogStarted(proxyEndpoint, role, zmqAddress(), string.IsNullOrEmpty(sharedSecret) ? "unsigned" : "signed");

        using var timer = new PeriodicTimer(P2pNcclRegistrationMessage.PingInterval);
        do
        {
            // The HTTP port is known once Kestrel listens; until then there is nothing to advertise.
            if (httpAddress() is not { } http)
            {
                continue;
            }

            var message = new P2pNcclRegistrationMessage(role, http, zmqAddress()).SignedWith(sharedSecret).ToMsgPack();
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Registering with the P2pNccl proxy {Proxy} as {Role} (zmq {ZmqAddress}) every 3 s, {Signing}")]
    private partial void LogStarted(string proxy, PdRole role, string zmqAddress, string signing);

    [LoggerMessage(Level = LogLevel.Debug, Message = "P2pNccl proxy {Proxy} not reachable; ping dropped")]
    private partial void LogBackedUp(string proxy);
}
