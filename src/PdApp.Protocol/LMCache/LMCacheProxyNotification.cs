using System.Buffers;
using MessagePack;

namespace PdApp.Protocol.LMCache;

/// <summary>
/// The "KV ready" message an LMCache PD sender (prefill) pushes to the proxy after the last chunk of a
/// request reached the receiver, once per tensor-parallel rank: LMCache's <c>ProxyNotif(PDMsgBase)</c>
/// (lmcache/v1/storage_backend/pd_backend.py), a <c>msgspec.Struct</c> with <c>tag=True</c>, which msgspec's
/// msgpack encoder writes as the map <c>{"type": "ProxyNotif", "req_id": "&lt;id&gt;"}</c>, sent as one
/// frame on a ZeroMQ PUSH socket connected to <c>pd_proxy_host:pd_proxy_port</c>.
/// </summary>
/// <param name="RequestId"><c>req_id</c>: the <see cref="LMCacheDisaggSpec.RequestId"/> of the request.</param>
public sealed record LMCacheProxyNotification(string RequestId)
{
    /// <summary>The tag key msgspec writes.</summary>
    public const string TagKey = "type";

    /// <summary>The tag of this message (the struct's class name).</summary>
    public const string Tag = "ProxyNotif";

    /// <summary>The request id key.</summary>
    public const string RequestIdKey = "req_id";

    /// <summary>The longest request id accepted (the proxy's ids are far shorter).</summary>
    public const int MaxRequestIdLength = 256;

    /// <summary>The frame, as msgspec writes it.</summary>
    /// <returns>The bytes.</returns>
    public byte[] ToMsgPack()
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        var writer = new MessagePackWriter(buffer);
        writer.WriteMapHeader(2);
        writer.Write(TagKey);
        writer.Write(Tag);
        writer.Write(RequestIdKey);
        writer.Write(RequestId);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads a frame: a msgpack map tagged <see cref="Tag"/> with a string <c>req_id</c>; other keys are skipped.</summary>
    /// <param name="payload">The frame.</param>
    /// <param name="notification">The notification, when valid.</param>
    /// <param name="error">Why the frame is not a notification, else empty.</param>
    /// <returns>True when the frame is a notification.</returns>
    public static bool TryParse(ReadOnlyMemory<byte> payload, out LMCacheProxyNotification? notification, out string error)
    {
        notification = null;
        if (!MsgPackStringMap.TryRead(payload, [TagKey, RequestIdKey], out var values, out error))
        {
            return false;
        }

        var (tag, requestId) = (values[0], values[1]);
        if (tag != Tag)
        {
            error = $"\"{TagKey}\" must be \"{Tag}\" (was {(tag is null ? "missing" : $"\"{tag}\"")})";
            return false;
        }

        if (string.IsNullOrEmpty(requestId) || requestId.Length > MaxRequestIdLength)
        {
            error = $"\"{RequestIdKey}\" must be a non-empty string of at most {MaxRequestIdLength} characters";
            return false;
        }

        notification = new LMCacheProxyNotification(requestId);
        error = string.Empty;
        return true;
    }
}
