using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PdApp.Protocol.KvEvents;

/// <summary>
/// The JSON of <c>--kv-events-config</c> (vllm/config/kv_events.py <c>KVEventsConfig</c>). Field names
/// and defaults are vLLM's; absent fields are omitted so vLLM applies its defaults.
/// </summary>
public sealed record KvEventsConfig
{
    /// <summary>The publisher that sends over ZeroMQ.</summary>
    public const string ZmqPublisher = "zmq";

    /// <summary>vLLM's default PUB port.</summary>
    public const int DefaultPort = 5557;

    /// <summary>vLLM's default PUB endpoint.</summary>
    public const string DefaultEndpoint = "tcp://*:5557";

    /// <summary><c>enable_kv_cache_events</c>: publish at all (vLLM default false).</summary>
    [JsonPropertyName("enable_kv_cache_events")]
    public bool EnableKvCacheEvents { get; init; }

    /// <summary><c>publisher</c>: <c>zmq</c> or <c>null</c>.</summary>
    [JsonPropertyName("publisher")]
    public string? Publisher { get; init; }

    /// <summary><c>endpoint</c>: the PUB socket; bound when it holds <c>*</c>, else connected (vLLM's rule).</summary>
    [JsonPropertyName("endpoint")]
    public string? Endpoint { get; init; }

    /// <summary><c>replay_endpoint</c>: the ROUTER socket serving missed batches, if any.</summary>
    [JsonPropertyName("replay_endpoint")]
    public string? ReplayEndpoint { get; init; }

    /// <summary><c>buffer_steps</c>: batches kept for replay (vLLM default 10000).</summary>
    [JsonPropertyName("buffer_steps")]
    public int? BufferSteps { get; init; }

    /// <summary><c>hwm</c>: the PUB socket's high-water mark (vLLM default 100000).</summary>
    [JsonPropertyName("hwm")]
    public int? Hwm { get; init; }

    /// <summary><c>max_queue_size</c>: batches queued before the publisher thread (vLLM default 100000).</summary>
    [JsonPropertyName("max_queue_size")]
    public int? MaxQueueSize { get; init; }

    /// <summary><c>topic</c>: the first frame of every message (vLLM default empty).</summary>
    [JsonPropertyName("topic")]
    public string? Topic { get; init; }

    /// <summary>Whether events are published over ZeroMQ.</summary>
    [JsonIgnore]
    public bool PublishesOverZmq => EnableKvCacheEvents && string.Equals(Publisher ?? ZmqPublisher, ZmqPublisher, StringComparison.Ordinal);

    private static JsonSerializerOptions SerializerOptions { get; } = new(JsonSerializerDefaults.General)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Parses the flag's JSON.</summary>
    /// <param name="json">The JSON object.</param>
    /// <returns>The config.</returns>
    /// <exception cref="JsonException">Not a valid config.</exception>
    public static KvEventsConfig Parse(string json) =>
        JsonSerializer.Deserialize<KvEventsConfig>(json, SerializerOptions) ?? throw new JsonException("expected a JSON object");

    /// <summary>The flag's JSON.</summary>
    /// <returns>Compact JSON.</returns>
    public string ToJson() => JsonSerializer.Serialize(this, SerializerOptions);

    /// <summary>
    /// The endpoint a subscriber connects to for a bound endpoint such as <c>tcp://*:5557</c>:
    /// the wildcard host replaced by <paramref name="host"/>.
    /// </summary>
    /// <param name="endpoint">The publisher's endpoint.</param>
    /// <param name="host">The engine's host as the subscriber reaches it.</param>
    /// <returns>A connectable endpoint.</returns>
    public static string Connectable(string endpoint, string host)
    {
        ArgumentException.ThrowIfNullOrEmpty(endpoint);
        ArgumentException.ThrowIfNullOrEmpty(host);
        return endpoint.Replace("://*:", "://" + host + ":", StringComparison.Ordinal);
    }

    /// <summary>The TCP endpoint <c>tcp://host:port</c>.</summary>
    /// <param name="host">Host, or <c>*</c> to bind every interface.</param>
    /// <param name="port">Port.</param>
    /// <returns>The endpoint.</returns>
    public static string Tcp(string host, int port) => string.Create(CultureInfo.InvariantCulture, $"tcp://{host}:{port}");
}
