using System.Text.Json.Serialization;

namespace PdApp.Simulator.KvTransfer.Transport;

/// <summary>
/// One request or reply of the simulator's loopback KV protocol: a single line of JSON each way per
/// TCP connection (see README, "KV protocol between instances").
/// </summary>
internal sealed record KvMessage
{
    /// <summary>Operation: <c>put</c>, <c>get</c>, <c>join</c>; replies leave it empty.</summary>
    [JsonPropertyName("op")]
    public string? Op { get; init; }

    /// <summary>The key: request id, prompt hash, or NIXL engine id and block ids.</summary>
    [JsonPropertyName("key")]
    public string? Key { get; init; }

    /// <summary>The KV for <c>put</c>, or the KV found by <c>get</c>.</summary>
    [JsonPropertyName("record")]
    public KvRecord? Record { get; init; }

    /// <summary>Who sends it (join: the member's name).</summary>
    [JsonPropertyName("sender")]
    public string? Sender { get; init; }

    /// <summary>Reply: whether the operation succeeded (get: whether the key was there).</summary>
    [JsonPropertyName("ok")]
    public bool Ok { get; init; }

    /// <summary>Reply to <c>join</c>: members joined so far, the producer included.</summary>
    [JsonPropertyName("members")]
    public int? Members { get; init; }

    /// <summary>Reply: why it failed.</summary>
    [JsonPropertyName("error")]
    public string? Error { get; init; }
}

/// <summary>JSON metadata for the KV protocol (source-generated: no reflection on the hot path).</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(KvMessage))]
[JsonSerializable(typeof(KvRecord))]
internal sealed partial class KvJsonContext : JsonSerializerContext;
