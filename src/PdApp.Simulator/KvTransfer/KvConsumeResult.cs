namespace PdApp.Simulator.KvTransfer;

/// <summary>What a consumer found.</summary>
/// <param name="Hit">Whether transferred KV for this prompt was found.</param>
/// <param name="TransferredTokens">Tokens covered by the transferred KV (prefill skips them).</param>
/// <param name="Producer">The instance that produced it, when found.</param>
/// <param name="Reason">Why it was a miss (logged).</param>
internal sealed record KvConsumeResult(bool Hit, int TransferredTokens, string? Producer, string? Reason)
{
    /// <summary>A miss, with its reason.</summary>
    public static KvConsumeResult Miss(string reason) => new(false, 0, null, reason);

    /// <summary>A hit.</summary>
    public static KvConsumeResult Found(KvRecord record) => new(true, record.NumTokens, record.Producer, null);
}
