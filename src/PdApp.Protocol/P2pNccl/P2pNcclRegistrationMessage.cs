using System.Buffers;
using System.Text;
using MessagePack;

namespace PdApp.Protocol.P2pNccl;

/// <summary>
/// The P2pNccl registration message, written by the simulator and read by the proxy. vLLM's
/// <c>P2pNcclEngine</c> (rank 0 of each instance, <c>vllm/distributed/kv_transfer/kv_connector/v1/p2p/p2p_nccl_engine.py</c>)
/// connects a ZeroMQ DEALER socket, whose identity is its <c>zmq_address</c>, to the proxy and sends,
/// every <see cref="PingInterval"/>, <c>msgpack.dumps({"type": "P" | "D", "http_address": "ip:port",
/// "zmq_address": "ip:kv_port"})</c> as a single frame.
/// </summary>
/// <param name="Role">Prefill for <c>"P"</c>, decode for <c>"D"</c>.</param>
/// <param name="HttpAddress">The instance's OpenAI server, <c>ip:port</c>.</param>
/// <param name="ZmqAddress">The instance's KV (ZMQ) address, <c>ip:kv_port</c>.</param>
public sealed record P2pNcclRegistrationMessage(PdRole Role, string HttpAddress, string ZmqAddress)
{
    /// <summary>The key of the role.</summary>
    public const string TypeKey = "type";

    /// <summary>The key of the HTTP address.</summary>
    public const string HttpAddressKey = "http_address";

    /// <summary>The key of the ZMQ address.</summary>
    public const string ZmqAddressKey = "zmq_address";

    /// <summary>
    /// The key of the optional signature, a PdApp extension (vLLM sends none): lower-case hex of
    /// HMAC-SHA256 over <c>type \n http_address \n zmq_address</c> with a secret shared by the
    /// instances and the proxy (<see cref="Sign"/>).
    /// </summary>
    public const string HmacKey = "hmac";

    /// <summary>
    /// The environment variable a PdApp-aware sender (the simulator) reads the shared secret from, the proxy's
    /// <c>Pd:Registry:SharedSecret</c>; set, every registration carries <see cref="HmacKey"/>. An environment
    /// variable rather than a <c>kv_connector_extra_config</c> key, so the secret stays off command lines.
    /// </summary>
    public const string SharedSecretVariable = "PDAPP_REGISTRY_SHARED_SECRET";

    /// <summary>The <c>type</c> of a prefill instance.</summary>
    public const string PrefillType = "P";

    /// <summary>The <c>type</c> of a decode instance.</summary>
    public const string DecodeType = "D";

    /// <summary>vLLM's ping interval.</summary>
    public static TimeSpan PingInterval { get; } = TimeSpan.FromSeconds(3);

    /// <summary>The message's <c>type</c>.</summary>
    public string Type => Role == PdRole.Prefill ? PrefillType : DecodeType;

    /// <summary>The signature sent (<see cref="HmacKey"/>), or null.</summary>
    public string? Hmac { get; init; }

    /// <summary>The signature of this message's fields under <paramref name="secret"/>.</summary>
    /// <param name="secret">The shared secret.</param>
    /// <returns>Lower-case hex HMAC-SHA256.</returns>
    public string Sign(string secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        var mac = System.Security.Cryptography.HMACSHA256.HashData(
            Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{Type}\n{HttpAddress}\n{ZmqAddress}"));
        return Convert.ToHexStringLower(mac);
    }

    /// <summary>This message signed with <paramref name="secret"/>, or unchanged when there is no secret.</summary>
    /// <param name="secret">The shared secret, or null or empty for none.</param>
    /// <returns>The message to send.</returns>
    public P2pNcclRegistrationMessage SignedWith(string? secret) =>
        string.IsNullOrEmpty(secret) ? this : this with { Hmac = Sign(secret) };

    /// <summary>Whether <see cref="Hmac"/> is this message's signature under <paramref name="secret"/> (constant time).</summary>
    /// <param name="secret">The shared secret.</param>
    /// <returns>True when signed with it.</returns>
    public bool IsSignedWith(string secret) =>
        Hmac is not null
        && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(Sign(secret)), Encoding.UTF8.GetBytes(Hmac));

    /// <summary>The msgpack frame, as Python's <c>msgpack.dumps</c> writes the dict.</summary>
    /// <returns>The bytes.</returns>
    public byte[] ToMsgPack()
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        var writer = new MessagePackWriter(buffer);
        writer.WriteMapHeader(Hmac is null ? 3 : 4);
        writer.Write(TypeKey);
        writer.Write(Type);
        writer.Write(HttpAddressKey);
        writer.Write(HttpAddress);
        writer.Write(ZmqAddressKey);
        writer.Write(ZmqAddress);
        if (Hmac is not null)
        {
            writer.Write(HmacKey);
            writer.Write(Hmac);
        }

        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Reads a frame: a msgpack map whose <c>type</c> is <c>"P"</c> or <c>"D"</c> and whose addresses
    /// are present (other keys are skipped). Checking that the addresses are <c>ip:port</c> is left
    /// to the reader, which knows its address rules.
    /// </summary>
    /// <param name="payload">The frame.</param>
    /// <param name="message">The message, when valid.</param>
    /// <param name="error">Why the frame is not a registration, else empty.</param>
    /// <returns>True when the frame is a registration.</returns>
    public static bool TryParse(ReadOnlyMemory<byte> payload, out P2pNcclRegistrationMessage? message, out string error)
    {
        message = null;
        if (!MsgPackStringMap.TryRead(payload, [TypeKey, HttpAddressKey, ZmqAddressKey, HmacKey], out var values, out error))
        {
            return false;
        }

        var (type, http, zmq, hmac) = (values[0], values[1], values[2], values[3]);
        PdRole role;
        switch (type)
        {
            case PrefillType:
                role = PdRole.Prefill;
                break;
            case DecodeType:
                role = PdRole.Decode;
                break;
            default:
                error = $"\"{TypeKey}\" must be \"{PrefillType}\" or \"{DecodeType}\" (was {Describe(type)})";
                return false;
        }

        if (http is null || zmq is null)
        {
            error = AddressError(http is null ? HttpAddressKey : ZmqAddressKey, null);
            return false;
        }

        message = new P2pNcclRegistrationMessage(role, http, zmq) { Hmac = hmac };
        error = string.Empty;
        return true;
    }

    /// <summary>The error for an address that is not <c>ip:port</c>.</summary>
    /// <param name="key"><see cref="HttpAddressKey"/> or <see cref="ZmqAddressKey"/>.</param>
    /// <param name="value">The value, or null when missing.</param>
    /// <returns>The message.</returns>
    public static string AddressError(string key, string? value) => $"\"{key}\" must be ip:port (was {Describe(value)})";

    private static string Describe(string? value) => value is null ? "missing" : $"\"{value}\"";
}
