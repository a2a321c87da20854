using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace PdApp.Simulator.KvTransfer;

/// <summary>What a connector knows about a request: its id, its prompt's token ids and the body's <c>kv_transfer_params</c>.</summary>
internal sealed class KvRequest(string requestId, int[] promptTokenIds, JsonObject? kvTransferParams)
{
    private string? _promptHash;

    /// <summary>The request id (<c>X-Request-Id</c> or generated).</summary>
    public string RequestId { get; } = requestId;

    /// <summary>Prompt token ids.</summary>
    public int[] PromptTokenIds { get; } = promptTokenIds;

    /// <summary>The body's <c>kv_transfer_params</c>, if any.</summary>
    public JsonObject? KvTransferParams { get; } = kvTransferParams;

    /// <summary>SHA-256 (hex) of the prompt's token ids: what a consumer checks the transferred KV against.</summary>
    public string PromptHash => _promptHash ??= Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(PromptTokenIds.AsSpan())));

    /// <summary>Whether the body carries <c>kv_transfer_params.&lt;name&gt;: true</c>.</summary>
    public bool HasParamFlag(string name) =>
        KvTransferParams?[name] is JsonValue value && value.TryGetValue<bool>(out var flag) && flag;
}
