namespace PdApp.Hosting.Topology;

/// <summary>
/// The model download's command line, one definition for the app host's <c>model-download</c> container
/// (<see cref="PdModelDownload"/>), compose's one-shot service and Kubernetes' init container: the Hugging Face
/// Hub through <c>huggingface_hub.snapshot_download</c> (a vLLM dependency, so vLLM's image runs it), or the
/// seed's <c>modelscope download</c>.
/// </summary>
public static class ModelDownloadCommand
{
    /// <summary>The executable the step runs.</summary>
    public const string Executable = "python3";

    /// <summary>The step's arguments after <see cref="Executable"/>.</summary>
    /// <param name="model">The Hugging Face model id.</param>
    /// <param name="localDirectory">A folder to download into (e.g. <c>/data/dp7b/</c>); null: the Hugging Face cache.</param>
    /// <returns>The arguments.</returns>
    public static IReadOnlyList<string> Arguments(string model, string? localDirectory = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);

        // The id and folder are passed as arguments, never spliced into the code. Offline (HF_HUB_OFFLINE=1) the call
        // succeeds only from the cache; a failure says what to do instead of failing in vLLM's start-up window.
        return
        [
            "-c",
            "import sys\n" +
            "from huggingface_hub import snapshot_download\n" +
            "repo, target = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else None)\n" +
            "try:\n" +
            "    path = snapshot_download(repo, local_dir=target)\n" +
            "except Exception as error:\n" +
            "    print('model-download: cannot download ' + repo + ' from the Hugging Face Hub (' + type(error).__name__ + ': ' + str(error) + '). " +
            "Offline or gated? Copy the model onto the data volume yourself, pass a token, or turn the download step off.', file=sys.stderr, flush=True)\n" +
            "    sys.exit(1)\n" +
            "print('model-download: ' + repo + ' -> ' + path, flush=True)\n",
            model,
            .. (localDirectory is null ? Array.Empty<string>() : [localDirectory]),
        ];
    }

    /// <summary>
    /// The seed's <c>modelscope download --model &lt;id&gt; --local_dir &lt;folder&gt;</c> as a shell command line
    /// (ModelScope's CLI is installed first: vLLM's image does not ship it).
    /// </summary>
    /// <param name="model">The ModelScope model id.</param>
    /// <param name="localDirectory">The folder to download into, e.g. <c>/data/dp7b/</c>.</param>
    /// <returns>The arguments after <c>sh</c>.</returns>
    public static IReadOnlyList<string> ModelScopeArguments(string model, string localDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(localDirectory);
        return
        [
            "-c",
            "pip install --quiet modelscope && modelscope download --model \"$1\" --local_dir \"$2\" && echo \"model-download: $1 -> $2\" " +
            "|| { echo \"model-download: cannot download $1 from ModelScope. Offline? Copy the model into $2 on the data volume yourself, or turn the download step off.\" >&2; exit 1; }",
            "model-download",
            model,
            localDirectory,
        ];
    }
}
