using System.Buffers;
using System.Text.Json;

namespace PdApp.Bench.MinimalProxy;

/// <summary>
/// The JSON edits of a PD proxy, as src/PdApp.Proxy makes them: the prefill body is the client's
/// with <c>max_tokens</c> (and <c>max_completion_tokens</c> when present) = 1, <c>stream</c> =
/// false, no <c>stream_options</c>/<c>min_tokens</c>/<c>min_completion_tokens</c>, plus NIXL's
/// <c>kv_transfer_params</c> request; the decode body is the client's, plus P's
/// <c>kv_transfer_params</c> for NIXL.
/// </summary>
internal static class PrefillBodies
{
    private const string KvTransferParams = "kv_transfer_params";

    /// <summary>Writes the prefill body.</summary>
    /// <param name="root">The client's body.</param>
    /// <param name="nixl">Whether to ask P to keep the KV for a remote decode.</param>
    /// <returns>The body.</returns>
    public static byte[] Prefill(JsonElement root, bool nixl)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            var maxCompletionTokens = false;
            foreach (var property in root.EnumerateObject())
            {
                if (property.NameEquals("max_completion_tokens"))
                {
                    maxCompletionTokens = true;
                }
                else if (!(property.NameEquals("max_tokens") || property.NameEquals("stream") || property.NameEquals("stream_options")
                    || property.NameEquals("min_tokens") || property.NameEquals("min_completion_tokens")
                    || (nixl && property.NameEquals(KvTransferParams))))
                {
                    property.WriteTo(writer);
                }
            }

            writer.WriteNumber("max_tokens", 1);
            if (maxCompletionTokens)
            {
                writer.WriteNumber("max_completion_tokens", 1);
            }

            writer.WriteBoolean("stream", false);
            if (nixl)
            {
                writer.WriteStartObject(KvTransferParams);
                writer.WriteBoolean("do_remote_decode", true);
                writer.WriteBoolean("do_remote_prefill", false);
                writer.WriteNull("remote_engine_id");
                writer.WriteNull("remote_block_ids");
                writer.WriteNull("remote_host");
                writer.WriteNull("remote_port");
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The decode body of NIXL: the client's body with P's <c>kv_transfer_params</c>, or null when P sent none.</summary>
    /// <param name="root">The client's body.</param>
    /// <param name="prefillResponse">P's response body.</param>
    /// <returns>The body, or null to send the client's body unchanged.</returns>
    public static byte[]? NixlDecode(JsonElement root, byte[] prefillResponse)
    {
        using var response = JsonDocument.Parse(prefillResponse);
        if (response.RootElement.ValueKind != JsonValueKind.Object
            || !response.RootElement.TryGetProperty(KvTransferParams, out var parameters)
            || parameters.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var property in root.EnumerateObject())
            {
                if (!property.NameEquals(KvTransferParams))
                {
                    property.WriteTo(writer);
                }
            }

            writer.WritePropertyName(KvTransferParams);
            parameters.WriteTo(writer);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
