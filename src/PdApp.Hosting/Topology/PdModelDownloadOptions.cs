namespace PdApp.Hosting.Topology;

/// <summary>
/// <c>Pd:ModelDownload</c>: an optional step that fetches the model before the vLLM engines start (a container
/// the engines wait for), as the seed's <c>modelscope download --model ... --local_dir /data/dp7b</c> does by hand.
/// </summary>
public sealed class PdModelDownloadOptions
{
    /// <summary><c>Pd:ModelDownload:Source</c>: <c>None</c> (default), <c>HuggingFace</c> or <c>ModelScope</c>.</summary>
    public PdModelDownloadSource Source { get; set; } = PdModelDownloadSource.None;

    /// <summary>
    /// <c>Pd:ModelDownload:Repository</c>: the hub id, e.g. <c>deepseek-ai/DeepSeek-R1-Distill-Qwen-7B</c>. Downloaded
    /// into <c>Pd:Model</c> when that is a folder under <c>/data</c>; default: <c>Pd:Model</c> when that is a hub id
    /// (then into the Hugging Face cache, which <c>Pd:HuggingFaceCachePath</c> must keep).
    /// </summary>
    public string? Repository { get; set; }
}
