using System.Buffers;
using System.Net.Sockets;
using System.Text.Json;

namespace PdApp.Simulator.KvTransfer.Transport;

/// <summary>Client side of the loopback KV protocol: one connection, one JSON line each way.</summary>
internal static class KvTransportClient
{
    /// <summary>Longest a KV operation may take before it counts as failed (a miss for the consumer).</summary>
    public static readonly TimeSpan OperationTimeout = TimeSpan.FromSeconds(5);

    private const int MaxLineBytes = 64 * 1024;

    /// <summary>Sends <paramref name="message"/> to <paramref name="host"/>:<paramref name="port"/> and returns the reply.</summary>
    /// <exception cref="IOException">Connection or protocol failure.</exception>
    public static async Task<KvMessage> SendAsync(string host, int port, KvMessage message, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(OperationTimeout);
        using var client = new TcpClient { NoDelay = true };
        try
        {
            await client.ConnectAsync(host, port, timeout.Token).ConfigureAwait(false);
            var stream = client.GetStream();
            await WriteMessageAsync(stream, message, timeout.Token).ConfigureAwait(false);
            return await ReadMessageAsync(stream, timeout.Token).ConfigureAwait(false)
                ?? throw new IOException($"KV peer {host}:{port} closed the connection without a reply.");
        }
        catch (SocketException ex)
        {
            throw new IOException($"KV peer {host}:{port} unreachable: {ex.Message}", ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"KV peer {host}:{port} timed out.", ex);
        }
        catch (JsonException ex)
        {
            throw new IOException($"KV peer {host}:{port} sent an invalid reply: {ex.Message}", ex);
        }
    }

    /// <summary>Writes one message as a JSON line.</summary>
    public static async Task WriteMessageAsync(NetworkStream stream, KvMessage message, CancellationToken cancellationToken)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(message, KvJsonContext.Default.KvMessage);
        var line = new byte[bytes.Length + 1];
        bytes.CopyTo(line, 0);
        line[^1] = (byte)'\n';
        await stream.WriteAsync(line, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads one JSON line; null when the peer closed first.</summary>
    public static async Task<KvMessage?> ReadMessageAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (buffer.Length >= MaxLineBytes)
                    {
                        throw new IOException("KV message too long.");
                    }

                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return length == 0 ? null : Deserialize(buffer.AsSpan(0, length));
                }

                var newline = buffer.AsSpan(length, read).IndexOf((byte)'\n');
                length += read;
                if (newline >= 0)
                {
                    return Deserialize(buffer.AsSpan(0, length - read + newline));
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static KvMessage? Deserialize(ReadOnlySpan<byte> json) => JsonSerializer.Deserialize(json, KvJsonContext.Default.KvMessage);
}
