using System.Buffers;
using System.Text;
using MessagePack;
using PdApp.Protocol;

namespace PdApp.Proxy.Routing.P2pNccl;

/// <summary>
/// One P2pNccl registration message. vLLM's <c>P2pNcclEngine</c> (rank 0 of each instance,
/// <c>vllm/distributed/kv_transfer/kv_connector/v1/p2p/p2p_nccl_engine.py</c>) connects a DEALER
/// socket to the proxy and sends, every 3 s, <c>msgpack.dumps({"type": "P" | "D",
/// "http_address": "ip:port", "zmq_address": "ip:kv_port"})</c> as a single frame.
/// </summary>
/// <param name="Role">Prefill for <c>"P"</c>, decode for <c>"D"</c>.</param>
/// <param name="HttpAddress">The instance's OpenAI server, <c>ip:port</c>.</param>
/// <param name="ZmqAddress">The instance's KV (ZMQ) address, <c>ip:kv_port</c>.</param>
internal sealed record P2pNcclRegistration(PdRole Role, string HttpAddress, string ZmqAddress)
{
    /// <summary>Parses a message, or explains why it is not a registration.</summary>
    public static bool TryParse(ReadOnlyMemory<byte> payload, out P2pNcclRegistration? registration, out string error)
    {
        registration = null;
        string? type = null, http = null, zmq = null;
        try
        {
            var reader = new MessagePackReader(new ReadOnlySequence<byte>(payload));
            if (reader.NextMessagePackType != MessagePackType.Map)
            {
                error = $"expected a msgpack map, got {reader.NextMessagePackType}";
                return false;
            }

            var count = reader.ReadMapHeader();
            for (var i = 0; i < count; i++)
            {
                var key = ReadText(ref reader);
                if (key is "type" or "http_address" or "zmq_address")
                {
                    var value = ReadText(ref reader);
                    _ = key switch
                    {
                        "type" => type = value,
                        "http_address" => http = value,
                        _ => zmq = value,
                    };
                }
                else
                {
                    reader.Skip();
                }
            }

            if (!reader.End)
            {
                error = "trailing bytes after the map";
                return false;
            }
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or InvalidOperationException or DecoderFallbackException)
        {
            error = $"not valid msgpack: {ex.Message}";
            return false;
        }

        PdRole role;
        switch (type)
        {
            case "P":
                role = PdRole.Prefill;
                break;
            case "D":
                role = PdRole.Decode;
                break;
            default:
                error = $"\"type\" must be \"P\" or \"D\" (was {(type is null ? "missing" : $"\"{type}\"")})";
                return false;
        }

        if (!HostPort.TryParse(http, out _, out _))
        {
            error = $"\"http_address\" must be ip:port (was {(http is null ? "missing" : $"\"{http}\"")})";
            return false;
        }

        if (!HostPort.TryParse(zmq, out _, out _))
        {
            error = $"\"zmq_address\" must be ip:port (was {(zmq is null ? "missing" : $"\"{zmq}\"")})";
            return false;
        }

        registration = new P2pNcclRegistration(role, http!, zmq!);
        error = string.Empty;
        return true;
    }

    /// <summary>Reads a string; Python's msgpack writes str, older packers raw bytes, so both are accepted.</summary>
    private static string? ReadText(ref MessagePackReader reader)
    {
        switch (reader.NextMessagePackType)
        {
            case MessagePackType.String:
                return reader.ReadString();
            case MessagePackType.Binary:
                var bytes = reader.ReadBytes();
                return bytes is { } sequence ? new UTF8Encoding(false, true).GetString(sequence.ToArray()) : null;
            default:
                throw new MessagePackSerializationException($"expected a string, got {reader.NextMessagePackType}");
        }
    }
}
