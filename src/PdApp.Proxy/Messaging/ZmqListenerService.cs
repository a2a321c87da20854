using System.Globalization;
using Microsoft.Extensions.Hosting;
using NetMQ;

namespace PdApp.Proxy.Messaging;

/// <summary>
/// A ZeroMQ socket the proxy binds and reads from on one dedicated thread (NetMQ sockets are not
/// thread-safe): the P2pNccl registry (ROUTER) and LMCache's "KV ready" notifications (PULL).
/// Binds <c>tcp://{BindAddress}:{Port}</c> (a free port when 0, reported by <see cref="BoundPort"/>),
/// then calls <see cref="Poll"/> until the host stops. A port that cannot be bound fails the service
/// (and, with the host's default <c>BackgroundServiceExceptionBehavior.StopHost</c>, the proxy): a
/// configured socket that silently does not listen would leave senders talking to nobody.
/// </summary>
/// <typeparam name="TSocket">The socket type.</typeparam>
internal abstract class ZmqListenerService<TSocket> : BackgroundService
    where TSocket : NetMQSocket
{
    /// <summary>How long one <see cref="Poll"/> waits for a message before checking for shutdown.</summary>
    protected static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    private readonly TaskCompletionSource<int> _bound = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes with the bound port once the socket listens (useful with port 0).</summary>
    public Task<int> BoundPort => _bound.Task;

    /// <summary>Whether the socket is configured at all.</summary>
    protected abstract bool Enabled { get; }

    /// <summary>The interface to bind (<c>*</c>, an IP address).</summary>
    protected abstract string BindAddress { get; }

    /// <summary>The port to bind; 0 for a free one.</summary>
    protected abstract int Port { get; }

    /// <inheritdoc />
    protected sealed override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled)
        {
            _bound.TrySetCanceled(CancellationToken.None);
            return Task.CompletedTask;
        }

        return Task.Factory.StartNew(() => Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>Creates the socket with its options (linger, message size), before it binds.</summary>
    /// <returns>The socket.</returns>
    protected abstract TSocket CreateSocket();

    /// <summary>Waits up to <see cref="PollInterval"/> for a message and handles it; runs on the socket's thread.</summary>
    /// <param name="socket">The bound socket.</param>
    protected abstract void Poll(TSocket socket);

    /// <summary>Called once the socket listens.</summary>
    /// <param name="port">The bound port.</param>
    protected abstract void OnListening(int port);

    /// <summary>Called when binding or reading failed, before the service fails.</summary>
    /// <param name="exception">What failed.</param>
    protected abstract void OnFailed(Exception exception);

    /// <summary>Called on the socket's thread when the loop ends, however it ends.</summary>
    protected virtual void OnStopped()
    {
    }

    private void Run(CancellationToken stoppingToken)
    {
        try
        {
            using var socket = CreateSocket();
            var address = $"tcp://{BindAddress}";
            int port;
            if (Port == 0)
            {
                port = socket.BindRandomPort(address);
            }
            else
            {
                port = Port;
                socket.Bind($"{address}:{port.ToString(CultureInfo.InvariantCulture)}");
            }

            _bound.TrySetResult(port);
            OnListening(port);
            while (!stoppingToken.IsCancellationRequested)
            {
                Poll(socket);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _bound.TrySetException(ex);
            OnFailed(ex);
            throw;
        }
        finally
        {
            _bound.TrySetCanceled(CancellationToken.None);
            OnStopped();
        }
    }
}
