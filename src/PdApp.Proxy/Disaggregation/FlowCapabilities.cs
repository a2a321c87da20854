namespace PdApp.Proxy.Disaggregation;

/// <summary>What a connector allows the proxy to do beyond the plain prefill-then-decode flow.</summary>
/// <param name="DecodeCanPrefillAlone">
/// D computes the prompt itself when no KV arrives (SharedStorage, LMCache, Nixl miss and prefill
/// locally); false where D blocks waiting for a peer (PyNccl's NCCL group, P2pNccl's addressed
/// send), so decode-only fallback and skipping prefill are impossible.
/// </param>
/// <param name="DecodeRetryIsSafe">
/// A decode that failed to connect may go to another D: the KV is still reachable from there
/// (shared files, NIXL pull from P). Not for PyNccl/P2pNccl, whose KV was pushed to one D.
/// </param>
public readonly record struct FlowCapabilities(bool DecodeCanPrefillAlone, bool DecodeRetryIsSafe);
