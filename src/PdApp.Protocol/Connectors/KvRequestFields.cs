namespace PdApp.Protocol.Connectors;

/// <summary>Request and response fields of vLLM's completion API that carry KV-transfer state.</summary>
public static class KvRequestFields
{
    /// <summary>
    /// <c>kv_transfer_params</c>: in a prefill request, asks the engine to keep the KV for a remote
    /// decode; in its response, where the KV lies; in the decode request, where to pull it from
    /// (vllm/entrypoints/openai/protocol.py; vllm/distributed/kv_transfer/kv_connector/v1/nixl_connector.py).
    /// </summary>
    public const string KvTransferParams = "kv_transfer_params";

    /// <summary>The <c>kv_transfer_params</c> key naming the host decode pulls the KV from.</summary>
    public const string RemoteHost = "remote_host";

    /// <summary>
    /// The <c>kv_transfer_params</c> a NIXL prefill request carries, as vLLM's NIXL proxy sends it
    /// (tests/v1/kv_connector/nixl_integration/toy_proxy_server.py).
    /// </summary>
    public static KvRequestField NixlPrefillParams { get; } = new(
        KvTransferParams,
        """{"do_remote_decode":true,"do_remote_prefill":false,"remote_engine_id":null,"remote_block_ids":null,"remote_host":null,"remote_port":null}""");
}
