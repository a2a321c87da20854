using System.Text.Json.Nodes;

namespace PdApp.Simulator.KvTransfer;

/// <summary>What a producer did.</summary>
/// <param name="Produced">Whether the KV was handed to the connector.</param>
/// <param name="KvTransferParams">The response's top-level <c>kv_transfer_params</c> (NIXL), if any.</param>
/// <param name="Reason">Why nothing was produced (logged).</param>
/// <param name="IsExpected">
/// Whether producing nothing is the connector's normal behaviour for this request (a prompt too
/// short for one KV block), logged as information rather than as a warning.
/// </param>
internal sealed record KvProduceResult(bool Produced, JsonObject? KvTransferParams, string? Reason, bool IsExpected = false)
{
    /// <summary>Nothing to produce by design (as vLLM, which stores no partial block), with the reason.</summary>
    public static KvProduceResult NothingToTransfer(string reason) => new(false, null, reason, IsExpected: true);

    /// <summary>Nothing produced, with the reason.</summary>
    public static KvProduceResult NotProduced(string reason) => new(false, null, reason);

    /// <summary>Produced, optionally with response params.</summary>
    public static KvProduceResult Done(JsonObject? kvTransferParams = null) => new(true, kvTransferParams, null);
}
