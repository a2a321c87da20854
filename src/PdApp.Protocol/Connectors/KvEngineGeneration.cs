namespace PdApp.Protocol.Connectors;

/// <summary>The vLLM engine a connector runs on.</summary>
public enum KvEngineGeneration
{
    /// <summary>The v0 engine (vLLM &lt;= ~0.9), e.g. <c>PyNcclConnector</c>.</summary>
    V0,

    /// <summary>The v1 engine (<c>vllm/distributed/kv_transfer/kv_connector/v1</c>).</summary>
    V1,
}
