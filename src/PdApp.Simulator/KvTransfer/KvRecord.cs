using System.Text.Json.Serialization;

namespace PdApp.Simulator.KvTransfer;

/// <summary>
/// The simulated KV cache of one prompt: what a producer hands over and a consumer checks. The real
/// tensors are replaced by the facts that prove PD happened: whose prompt (hash and length) and who
/// computed it.
/// </summary>
/// <param name="PromptHash">SHA-256 hex of the prompt's token ids.</param>
/// <param name="NumTokens">Tokens the KV covers.</param>
/// <param name="Producer">Instance name of the producer.</param>
/// <param name="EngineId">Producer's engine id.</param>
/// <param name="CreatedUnixMs">When it was produced.</param>
internal sealed record KvRecord(
    [property: JsonPropertyName("prompt_hash")] string PromptHash,
    [property: JsonPropertyName("num_tokens")] int NumTokens,
    [property: JsonPropertyName("producer")] string Producer,
    [property: JsonPropertyName("engine_id")] string EngineId,
    [property: JsonPropertyName("created_unix_ms")] long CreatedUnixMs);
