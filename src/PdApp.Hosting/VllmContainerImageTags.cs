namespace PdApp.Hosting;

/// <summary>
/// The container images the vLLM integration pins (never <c>latest</c>: a PD pair must run the same
/// engine version, and connectors appear, change and get renamed between vLLM releases).
/// </summary>
internal static class VllmContainerImageTags
{
    /// <summary>Docker Hub, where the official vLLM images are published.</summary>
    /// <remarks>docker.io</remarks>
    public const string Registry = "docker.io";

    /// <summary>The official OpenAI-compatible server image.</summary>
    /// <remarks>vllm/vllm-openai</remarks>
    public const string Image = "vllm/vllm-openai";

    /// <summary>
    /// The pinned vLLM release. v0.11.2 is the last line whose v1 engine still registers
    /// <c>SharedStorageConnector</c> under that name (vllm-project/vllm#30201 renamed it to
    /// <c>ExampleConnector</c> for the releases after it) and already has P2pNccl, NIXL and MultiConnector.
    /// </summary>
    /// <remarks>v0.11.2</remarks>
    public const string Tag = "v0.11.2";

    /// <summary>Registry of the images the vLLM PD guide uses (Alibaba Cloud Container Registry, Hangzhou).</summary>
    /// <remarks>registry.cn-hangzhou.aliyuncs.com</remarks>
    public const string GuideRegistry = "registry.cn-hangzhou.aliyuncs.com";

    /// <summary>Repository of the guide's images.</summary>
    /// <remarks>lky-deploy/llm</remarks>
    public const string GuideImage = "lky-deploy/llm";

    /// <summary>The guide's vLLM 0.7.2 image: the v0 engine, the only one with <c>PyNcclConnector</c>.</summary>
    /// <remarks>vllm-server-0.7.2</remarks>
    public const string GuidePyNcclTag = "vllm-server-0.7.2";

    /// <summary>The guide's vLLM 0.8.5 image (PyTorch 2.7, CUDA 12.8): the first release with <c>SharedStorageConnector</c>.</summary>
    /// <remarks>vllm-server-0.8.5-pytorch2.7-cu128</remarks>
    public const string GuideSharedStorageTag = "vllm-server-0.8.5-pytorch2.7-cu128";

    /// <summary>LMCache's image: vLLM with LMCache and NIXL installed (LMCache is not in the official image).</summary>
    /// <remarks>lmcache/vllm-openai</remarks>
    public const string LMCacheImage = "lmcache/vllm-openai";

    /// <summary>The pinned LMCache image tag (LMCache 0.3.x on a vLLM v1 engine).</summary>
    /// <remarks>v0.3.9</remarks>
    public const string LMCacheTag = "v0.3.9";
}
