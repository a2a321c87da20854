namespace PdApp.Simulator.Engine;

/// <summary>Receives a running completion's output: a streaming writer or a collector for JSON.</summary>
internal interface ICompletionSink
{
    /// <summary>Called once prefill is over, before the first token: the KV outcome is known (response headers).</summary>
    ValueTask BeginAsync(string kvOutcome, CancellationToken cancellationToken);

    /// <summary>
    /// Called per output token with the text it adds (stop strings already cut out; may be empty). The
    /// last token carries the finish reason, as vLLM puts it on the last content chunk.
    /// </summary>
    ValueTask WriteTokenAsync(string delta, string? finishReason, string? stopReason, CancellationToken cancellationToken);
}
