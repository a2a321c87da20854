namespace PdApp.Protocol;

/// <summary>HTTP header names shared by the proxy, the simulator and the tests.</summary>
public static class PdHeaders
{
    /// <summary>Request id, accepted from clients or generated, forwarded to both instances (vLLM reads it too).</summary>
    public const string RequestId = "X-Request-Id";

    /// <summary>Set by the simulator on every response: the name of the instance that served it.</summary>
    public const string SimulatorInstance = "X-PdSim-Instance";

    /// <summary>
    /// Set by the simulator on completion responses: what happened to the KV cache, one of
    /// <see cref="KvTransferOutcomes"/>.
    /// </summary>
    public const string SimulatorKvTransfer = "X-PdSim-Kv-Transfer";

    /// <summary>Set by the proxy: the prefill instance that served the request (absent when prefill was skipped).</summary>
    public const string ProxyPrefillInstance = "X-PdApp-Prefill-Instance";

    /// <summary>Set by the proxy: the decode instance that served the request.</summary>
    public const string ProxyDecodeInstance = "X-PdApp-Decode-Instance";
}

/// <summary>Values of <see cref="PdHeaders.SimulatorKvTransfer"/>.</summary>
public static class KvTransferOutcomes
{
    /// <summary>Prefill role: the prompt's KV was computed and handed to the connector.</summary>
    public const string Produced = "produced";

    /// <summary>Decode role: the transferred KV was found; prefill time was skipped.</summary>
    public const string Hit = "hit";

    /// <summary>Decode role: no transferred KV; the prompt was prefilled locally.</summary>
    public const string Miss = "miss";

    /// <summary>No connector configured (plain serving).</summary>
    public const string None = "none";
}
