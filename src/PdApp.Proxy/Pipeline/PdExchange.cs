namespace PdApp.Proxy.Pipeline;

/// <summary>How a request was served, for the request log line.</summary>
public enum PdMode
{
    /// <summary>Not served (refused or failed before an instance answered).</summary>
    None,

    /// <summary>Prefill on P, decode on D.</summary>
    Disaggregated,

    /// <summary>Prompt under the skip threshold: D alone.</summary>
    PrefillSkipped,

    /// <summary>Prefill unavailable or failed: D alone.</summary>
    DecodeOnlyFallback,
}

/// <summary>What happened to one client request in the PD flow (logged once at the end).</summary>
public sealed class PdExchange
{
    /// <summary>How it was served.</summary>
    public PdMode Mode { get; set; }

    /// <summary>The prefill instance that succeeded (or last tried).</summary>
    public string? PrefillInstance { get; set; }

    /// <summary>The decode instance.</summary>
    public string? DecodeInstance { get; set; }

    /// <summary>D's report on the KV (simulator header), or the Nixl confirmation.</summary>
    public string? KvTransfer { get; set; }

    /// <summary>
    /// The real outcome of a response cut after its 200 was sent (the in-band error's status, or
    /// 502 for a body that broke off): what the log line and the request metric record.
    /// </summary>
    public int? FailedStatus { get; set; }

    /// <summary><see cref="Mode"/> as the word the request log line uses.</summary>
    public string ModeName => Mode switch
    {
        PdMode.Disaggregated => "pd",
        PdMode.PrefillSkipped => "prefill-skipped",
        PdMode.DecodeOnlyFallback => "decode-only",
        _ => "none",
    };
}
