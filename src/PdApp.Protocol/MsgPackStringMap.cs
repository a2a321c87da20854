using System.Buffers;
using System.Text;
using MessagePack;

namespace PdApp.Protocol;

/// <summary>
/// Reads the one-frame msgpack maps of string values that engines send the proxy (P2pNccl registrations,
/// LMCache's <c>ProxyNotif</c>): the wanted keys' values as text, every other entry skipped.
/// </summary>
internal static class MsgPackStringMap
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Reads <paramref name="payload"/> as a map and returns the values of <paramref name="keys"/>.</summary>
    /// <param name="payload">The frame.</param>
    /// <param name="keys">The keys wanted.</param>
    /// <param name="values">Each wanted key's value, in <paramref name="keys"/>' order; null when absent.</param>
    /// <param name="error">Why the frame is not such a map, else empty.</param>
    /// <returns>True when the frame is one map and nothing follows it.</returns>
    public static bool TryRead(ReadOnlyMemory<byte> payload, ReadOnlySpan<string> keys, out string?[] values, out string error)
    {
        values = new string?[keys.Length];
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
                var index = reader.NextMessagePackType is MessagePackType.String or MessagePackType.Binary
                    ? keys.IndexOf(ReadText(ref reader))
                    : -1;
                if (index >= 0)
                {
                    values[index] = ReadText(ref reader);
                }
                else
                {
                    // A key that is not text, or a key not wanted: its value is skipped.
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

        error = string.Empty;
        return true;
    }

    /// <summary>Reads a string; Python's msgpack writes str, older packers raw bytes, so both are accepted.</summary>
    private static string ReadText(ref MessagePackReader reader)
    {
        switch (reader.NextMessagePackType)
        {
            case MessagePackType.String:
                return reader.ReadString() ?? string.Empty;
            case MessagePackType.Binary:
                var bytes = reader.ReadBytes();
                return bytes is { } sequence ? StrictUtf8.GetString(sequence.ToArray()) : string.Empty;
            default:
                throw new MessagePackSerializationException($"expected a string, got {reader.NextMessagePackType}");
        }
    }
}
