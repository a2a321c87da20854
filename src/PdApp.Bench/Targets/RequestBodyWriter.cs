using System.Buffers;
using System.Text.Json;
using PdApp.Bench.Workloads;
using PdApp.Protocol.Connectors;

namespace PdApp.Bench.Targets;

/// <summary>
/// Writes OpenAI request bodies straight to UTF-8 with <see cref="Utf8JsonWriter"/>. Greedy
/// sampling (<c>temperature</c> 0) keeps runs comparable, as vLLM's benchmark does.
/// </summary>
internal static class RequestBodyWriter
{
    /// <summary>The body the client would send.</summary>
    public static byte[] Write(RequestShape shape, BenchRequest request) =>
        Write(shape, request, request.MaxTokens, shape.Stream, []);

    /// <summary>
    /// The prefill body of a PD pair, as vLLM's disaggregated proxies build it: the same request
    /// with one output token, not streamed, no <c>stream_options</c>, plus the connector's prefill
    /// fields (<see cref="ResolvedConnector.PrefillBodyFields"/>; NIXL: <c>kv_transfer_params</c> asking for a remote decode).
    /// </summary>
    public static byte[] WritePrefill(RequestShape shape, BenchRequest request, IReadOnlyList<KvRequestField> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        return Write(shape, request, maxTokens: 1, stream: false, [.. fields.Select(f => (f.Name, f.Utf8Json))]);
    }

    /// <summary>The decode body: the client's request plus a field of the prefill's response, when it returned one (NIXL: <c>kv_transfer_params</c>).</summary>
    public static byte[] WriteDecode(RequestShape shape, BenchRequest request, string? field, ReadOnlyMemory<byte> value) =>
        Write(shape, request, request.MaxTokens, shape.Stream, field is null || value.IsEmpty ? [] : [(field, value)]);

    private static byte[] Write(RequestShape shape, BenchRequest request, int maxTokens, bool stream, IReadOnlyList<(string Name, ReadOnlyMemory<byte> Json)> extra)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(request);
        var buffer = new ArrayBufferWriter<byte>(request.Prompt.Length + 256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("model"u8, shape.Model);
            if (shape.Endpoint == EndpointKind.Chat)
            {
                json.WriteStartArray("messages"u8);
                json.WriteStartObject();
                json.WriteString("role"u8, "user"u8);
                json.WriteString("content"u8, request.Prompt);
                json.WriteEndObject();
                json.WriteEndArray();
                json.WriteNumber("max_completion_tokens"u8, maxTokens);
            }
            else
            {
                json.WriteString("prompt"u8, request.Prompt);
            }

            json.WriteNumber("max_tokens"u8, maxTokens);
            json.WriteNumber("temperature"u8, 0);
            json.WriteBoolean("stream"u8, stream);
            if (stream)
            {
                json.WriteStartObject("stream_options"u8);
                json.WriteBoolean("include_usage"u8, true);
                json.WriteEndObject();
            }

            if (shape.IgnoreEos)
            {
                json.WriteBoolean("ignore_eos"u8, true);
            }

            foreach (var (name, value) in extra)
            {
                json.WritePropertyName(name);
                json.WriteRawValue(value.Span, skipInputValidation: true);
            }

            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
