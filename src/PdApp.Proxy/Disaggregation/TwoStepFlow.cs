using PdApp.Protocol.Connectors;

namespace PdApp.Proxy.Disaggregation;

/// <summary>
/// SharedStorage, LMCache, PyNccl and MultiConnector without Nixl: nothing moves through the proxy;
/// P saves the KV (files, LMCache, the NCCL pipe) and D finds it by the prompt. As vLLM's
/// <c>disagg_prefill_proxy_server.py</c>: prefill with one token, then decode with the original body.
/// </summary>
public sealed class TwoStepFlow(ResolvedConnector connector) : DisaggregationFlow(connector);
