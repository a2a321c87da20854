namespace PdApp.Tests.Deployment;

/// <summary>The app host settings of the topologies the deployment tests publish.</summary>
internal static class Topologies
{
    /// <summary>The default recipe: SharedStorageConnector, prefill-0 on GPU 0 port 8100, decode-0 on GPU 1 port 8200.</summary>
    public static readonly string[] SharedStorage1P1D = [];

    /// <summary>SharedStorageConnector with two prefills and two decodes (GPUs assigned in order).</summary>
    public static readonly string[] SharedStorage2P2D = ["--Pd:Prefill:Count=2", "--Pd:Decode:Count=2"];

    /// <summary>The vLLM P2pNccl xPyD example at 2P2D: host networking, the proxy's registry on 30001.</summary>
    public static readonly string[] P2pNccl2P2D = ["--PdConfig=examples/p2pnccl.json", "--Pd:Prefill:Count=2", "--Pd:Decode:Count=2"];

    /// <summary>P2pNccl on bridge networking: instances reach the proxy's registry through the container-host alias.</summary>
    public static readonly string[] P2pNcclBridge1P1D = ["--Pd:Connector=P2pNcclConnector"];

    /// <summary>The NIXL example: two prefills and two decodes, side channels from 5600.</summary>
    public static readonly string[] Nixl2P2D = ["--PdConfig=examples/nixl.json"];

    /// <summary>The LMCache example: one prefill sending KV to one decode over LMCache's NIXL channel.</summary>
    public static readonly string[] LMCache1P1D = ["--PdConfig=examples/lmcache.json"];

    /// <summary>MultiConnector: NIXL first, SharedStorage as the fallback.</summary>
    public static readonly string[] Multi1P1D = ["--PdConfig=examples/multi.json"];

    /// <summary>The guide's PyNccl recipe: privileged, SYS_PTRACE, host networking, GPUs 0 and 1.</summary>
    public static readonly string[] PyNccl1P1D = ["--PdConfig=examples/pynccl.json"];

    /// <summary>The default topology with a Hugging Face token and an engine API key, both secrets.</summary>
    public static readonly string[] WithSecrets = ["--Pd:UseHuggingFaceToken=true", "--Pd:UseApiKey=true"];
}
