using PdApp.Protocol.Connectors;

namespace PdApp.Proxy.Pipeline.Flows;

/// <summary>
/// SharedStorage, PyNccl and MultiConnector without Nixl, P2pNccl or LMCache: nothing moves through the proxy;
/// P saves the KV (files, LMCache, the NCCL pipe) and D finds it by the prompt. As vLLM's
/// <c>disagg_prefill_proxy_server.py</c>: prefill with one token, then decode with the original body.
/// </summary>
public sealed class TwoStepFlow(ResolvedConnector connector) : DisaggregationFlow(connector);
