using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace PdApp.Protocol;

/// <summary>
/// The JSON document vLLM parses from <c>--kv-transfer-config</c> (vllm/config KVTransferConfig).
/// Field names are vLLM's; absent (null) fields are omitted so vLLM applies its defaults.
/// </summary>
public sealed record KvTransferConfig
{
    /// <summary>Connector class name, one of <see cref="KvConnectorNames"/>.</summary>
    [JsonPropertyName("kv_connector")]
    public string? KvConnector { get; init; }

    /// <summary>One of <see cref="KvRoles"/>; required by vLLM when a connector is set.</summary>
    [JsonPropertyName("kv_role")]
    public string? KvRole { get; init; }

    /// <summary>Rank in the KV group (PyNccl: 0 = prefill, 1 = decode).</summary>
    [JsonPropertyName("kv_rank")]
    public int? KvRank { get; init; }

    /// <summary>Number of members of the KV group (vLLM default 1).</summary>
    [JsonPropertyName("kv_parallel_size")]
    public int? KvParallelSize { get; init; }

    /// <summary>Rendezvous address (vLLM default <c>127.0.0.1</c>).</summary>
    [JsonPropertyName("kv_ip")]
    public string? KvIp { get; init; }

    /// <summary>Rendezvous / ZMQ base port (vLLM default 14579).</summary>
    [JsonPropertyName("kv_port")]
    public int? KvPort { get; init; }

    /// <summary>KV buffer size in bytes (vLLM default 1e9).</summary>
    [JsonPropertyName("kv_buffer_size")]
    public double? KvBufferSize { get; init; }

    /// <summary>Device of the KV buffer (vLLM default <c>cuda</c>).</summary>
    [JsonPropertyName("kv_buffer_device")]
    public string? KvBufferDevice { get; init; }

    /// <summary>Connector-specific settings.</summary>
    [JsonPropertyName("kv_connector_extra_config")]
    public JsonObject? KvConnectorExtraConfig { get; init; }

    /// <summary>Python module of a custom connector class.</summary>
    [JsonPropertyName("kv_connector_module_path")]
    public string? KvConnectorModulePath { get; init; }

    /// <summary>Engine id (random when absent).</summary>
    [JsonPropertyName("engine_id")]
    public string? EngineId { get; init; }

    /// <summary>Serializer settings: vLLM accepts numbers and numeric strings; nulls are left out.</summary>
    public static JsonSerializerOptions SerializerOptions { get; } = new(JsonSerializerDefaults.General)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
        WriteIndented = false,
    };

    /// <summary>The compact JSON passed to <c>--kv-transfer-config</c>.</summary>
    /// <returns>The JSON text.</returns>
    public string ToJson() => JsonSerializer.Serialize(this, SerializerOptions);

    /// <summary>Parses the JSON given to <c>--kv-transfer-config</c>.</summary>
    /// <param name="json">The JSON text.</param>
    /// <returns>The parsed configuration.</returns>
    /// <exception cref="JsonException">The text is not a JSON object of this shape.</exception>
    public static KvTransferConfig Parse(string json)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(json);
        return JsonSerializer.Deserialize<KvTransferConfig>(json, SerializerOptions)
            ?? throw new JsonException("--kv-transfer-config must be a JSON object.");
    }
}
