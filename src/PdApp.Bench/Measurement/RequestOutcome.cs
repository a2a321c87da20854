namespace PdApp.Bench.Measurement;

/// <summary>The client-side measurements of one request.</summary>
/// <param name="ErrorKind">Null on success; otherwise one of <see cref="ErrorKinds"/>.</param>
/// <param name="ErrorMessage">Detail of the failure, for the first few errors shown to the user.</param>
/// <param name="TtftMicroseconds">Time to first output chunk (the whole latency when not streaming).</param>
/// <param name="E2eMicroseconds">End-to-end latency: send to last byte.</param>
/// <param name="PromptTokens">Prompt tokens (server usage, else the workload's estimate).</param>
/// <param name="OutputTokens">Output tokens (server usage, else output chunks).</param>
/// <param name="Streamed">The response was streamed, so TTFT and TPOT are meaningful.</param>
internal sealed record RequestOutcome(
    string? ErrorKind,
    string? ErrorMessage,
    long TtftMicroseconds,
    long E2eMicroseconds,
    int PromptTokens,
    int OutputTokens,
    bool Streamed)
{
    /// <summary>Whether the request succeeded.</summary>
    public bool Succeeded => ErrorKind is null;

    /// <summary>
    /// Time per output token after the first, <c>(e2e - ttft) / (output tokens - 1)</c>, as in
    /// vLLM's benchmark_serving.py; null when fewer than two tokens were generated or the
    /// response was not streamed.
    /// </summary>
    public double? TpotMicroseconds =>
        Succeeded && Streamed && OutputTokens > 1 ? (E2eMicroseconds - TtftMicroseconds) / (double)(OutputTokens - 1) : null;

    /// <summary>Creates a failed outcome.</summary>
    public static RequestOutcome Failed(string kind, string message, long e2eMicroseconds, int promptTokens) =>
        new(kind, message, 0, e2eMicroseconds, promptTokens, 0, Streamed: false);
}
