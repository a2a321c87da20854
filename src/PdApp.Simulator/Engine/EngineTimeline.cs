namespace PdApp.Simulator.Engine;

/// <summary>
/// When one request passed each step of the engine (<see cref="TimeProvider"/> timestamps): admitted
/// to a running slot, its transferred KV loaded (when a connector consumed any), its prompt computed
/// (the first token is due) and its first token written to the client; with the sequences running
/// and the thread pool's queued work items as it entered the engine. Logged at Debug once the request
/// ends (<see cref="CompletionEngine"/>), so a bench can split a burst's time to first token into
/// queueing, KV loading, prefill and writing.
/// </summary>
internal sealed class EngineTimeline
{
    /// <summary>Slot and blocks granted.</summary>
    public long Admitted { get; set; }

    /// <summary>The connector's KV lookup and load ended (0 when none).</summary>
    public long KvLoaded { get; set; }

    /// <summary>The prompt is computed or loaded: the first token is due.</summary>
    public long PromptDone { get; set; }

    /// <summary>The first token was written and flushed.</summary>
    public long FirstTokenWritten { get; set; }

    /// <summary>Sequences running when the request entered the engine.</summary>
    public int RunningAtEntry { get; init; }

    /// <summary>Thread-pool work items queued when the request entered the engine.</summary>
    public long QueuedAtEntry { get; init; }

    /// <summary>Thread-pool threads when the request entered the engine.</summary>
    public int ThreadsAtEntry { get; init; }
}
