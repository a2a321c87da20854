namespace PdApp.Hosting.KvConnectors;

/// <summary>How a P2pNccl producer hands KV to the consumer (<c>send_type</c>).</summary>
public enum P2pNcclSendType
{
    /// <summary><c>PUT</c>: the producer sends synchronously after each layer.</summary>
    Put,

    /// <summary><c>GET</c>: the consumer pulls; the producer keeps KV until it is fetched.</summary>
    Get,

    /// <summary><c>PUT_ASYNC</c> (vLLM's default): the producer sends from a background thread.</summary>
    PutAsync,
}
