using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace PdApp.Simulator.KvTransfer.Transport;

/// <summary>
/// A listener for the loopback KV protocol: accepts connections, reads one JSON line, answers one
/// JSON line from <paramref name="handler"/>, closes. Stands in for NIXL's side channel, P2pNccl's
/// ZMQ router, the PyNccl rendezvous and LMCache's receiver.
/// </summary>
internal sealed partial class KvTransportServer(
    string name,
    Func<KvMessage, CancellationToken, ValueTask<KvMessage>> handler,
    ILogger logger) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private TcpListener? _listener;
    private Task? _acceptLoop;

    /// <summary>The port bound (after <see cref="Start"/>).</summary>
    public int Port => ((IPEndPoint?)_listener?.LocalEndpoint)?.Port ?? 0;

    /// <summary>Binds <paramref name="host"/>:<paramref name="port"/> (0 = any free port) and starts accepting.</summary>
    public void Start(string host, int port)
    {
        var address = host switch
        {
            "localhost" => IPAddress.Loopback,
            "0.0.0.0" or "*" => IPAddress.Any,
            _ => IPAddress.TryParse(host, out var ip) ? ip : Dns.GetHostAddresses(host).First(a => a.AddressFamily == AddressFamily.InterNetwork),
        };
        _listener = new TcpListener(address, port);
        _listener.Start(backlog: 512);
        LogListening(name, address.ToString(), Port);
        _acceptLoop = AcceptLoopAsync(_stopping.Token);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener?.Stop();
        if (_acceptLoop is not null)
        {
            try
            {
                await _acceptLoop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener!.AcceptTcpClientAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = ServeAsync(client, cancellationToken);
        }
    }

    private async Task ServeAsync(TcpClient client, CancellationToken cancellationToken)
    {
        using var _ = client;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(KvTransportClient.OperationTimeout);
        try
        {
            var stream = client.GetStream();
            var request = await KvTransportClient.ReadMessageAsync(stream, timeout.Token).ConfigureAwait(false);
            var reply = request is null
                ? new KvMessage { Ok = false, Error = "empty request" }
                : await handler(request, timeout.Token).ConfigureAwait(false);
            await KvTransportClient.WriteMessageAsync(stream, reply, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or JsonException or DecoderFallbackException)
        {
            LogBadConnection(name, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Name} KV listener on {Address}:{Port}")]
    private partial void LogListening(string name, string address, int port);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Name} KV connection failed: {Error}")]
    private partial void LogBadConnection(string name, string error);
}
