namespace PdApp.Hosting.Topology;

/// <summary>Where <c>Pd:ModelDownload</c> fetches the model from before the engines start.</summary>
public enum PdModelDownloadSource
{
    /// <summary>No download: the model is already on the data volume (or vLLM fetches it itself).</summary>
    None,

    /// <summary>The Hugging Face Hub (<c>huggingface_hub.snapshot_download</c>, as <c>huggingface-cli download</c>).</summary>
    HuggingFace,

    /// <summary>ModelScope (<c>modelscope download --model ... --local_dir ...</c>, the seed's recipe).</summary>
    ModelScope,
}
