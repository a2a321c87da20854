namespace PdApp.Bench.Measurement;

/// <summary>
/// Service-level objectives a request must meet to count towards goodput (vLLM's
/// <c>--goodput ttft:500 tpot:50 e2el:2000</c>): a request is good when each objective set is
/// at least its value, as in vLLM (a value equal to the objective meets it).
/// </summary>
/// <param name="TtftMilliseconds">Upper bound on TTFT, or null for none.</param>
/// <param name="TpotMilliseconds">Upper bound on TPOT, or null for none.</param>
/// <param name="E2elMilliseconds">Upper bound on the end-to-end latency, or null for none.</param>
internal sealed record SloSettings(double? TtftMilliseconds, double? TpotMilliseconds, double? E2elMilliseconds = null)
{
    /// <summary>No objectives: goodput is not reported.</summary>
    public static SloSettings None { get; } = new(null, null);

    /// <summary>Whether any objective is set.</summary>
    public bool IsSet => TtftMilliseconds is not null || TpotMilliseconds is not null || E2elMilliseconds is not null;

    /// <summary>
    /// Whether <paramref name="outcome"/> met every objective. A request without a TPOT (one
    /// token) meets the TPOT objective, as in vLLM where its TPOT is 0.
    /// </summary>
    public bool IsMetBy(RequestOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (!outcome.Succeeded)
        {
            return false;
        }

        if (TtftMilliseconds is { } ttft && outcome.TtftMicroseconds > ttft * 1000)
        {
            return false;
        }

        if (E2elMilliseconds is { } e2el && outcome.E2eMicroseconds > e2el * 1000)
        {
            return false;
        }

        return TpotMilliseconds is not { } tpot || outcome.TpotMicroseconds is not { } actual || actual <= tpot * 1000;
    }
}
