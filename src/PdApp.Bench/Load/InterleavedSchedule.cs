namespace PdApp.Bench.Load;

/// <summary>
/// Orders the sends of a run over several targets: every prompt goes to each target in
/// consecutive slots, and the order rotates from prompt to prompt (A B, B A, ...) so neither
/// target is always first and both see the same prompts under the same conditions.
/// </summary>
internal static class InterleavedSchedule
{
    /// <summary>The prompt index and target index of send number <paramref name="slot"/>.</summary>
    public static (long Prompt, int Target) At(long slot, int targets)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(targets);
        var prompt = slot / targets;
        var position = (int)(slot % targets);
        var target = (int)((position + prompt) % targets);
        return (prompt, target);
    }
}
