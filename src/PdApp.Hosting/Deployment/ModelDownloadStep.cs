using PdApp.Hosting.Deployment.Model;

namespace PdApp.Hosting.Deployment;

/// <summary>
/// The model download both deployments run before the engines (a one-shot compose service, a Kubernetes init
/// container): the Hugging Face equivalent of the seed's <c>modelscope download</c>, fetching the engine's
/// <c>serve &lt;org/name&gt;</c> model into the Hugging Face cache with <c>huggingface_hub.snapshot_download</c>
/// (a vLLM dependency, so vLLM's image runs it; files already cached are skipped). vLLM then loads from the cache
/// instead of downloading inside its start-up window. A model given as a path (<c>/data/dp7b/</c>) is not
/// downloaded: it must already be on the data volume.
/// </summary>
public static class ModelDownloadStep
{
    /// <summary>The executable the step runs.</summary>
    public const string Executable = "python3";

    /// <summary>The Hugging Face model id <paramref name="engine"/> serves (<c>serve Qwen/Qwen3-0.6B</c>), or null for a path.</summary>
    /// <param name="engine">The engine.</param>
    /// <returns>The id, or null.</returns>
    public static string? HuggingFaceModel(DeploymentEngine engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        var serve = engine.Args.Select(a => a.ToString()).ToList();
        var index = serve.IndexOf("serve");
        if (index < 0 || index + 1 >= serve.Count)
        {
            return null;
        }

        var model = serve[index + 1];
        return !model.StartsWith('/') && !model.StartsWith('.') && model.Count(c => c == '/') == 1 && !model.Contains(' ', StringComparison.Ordinal)
            ? model
            : null;
    }

    /// <summary>The step's arguments after <see cref="Executable"/>.</summary>
    /// <param name="model">The Hugging Face model id.</param>
    /// <returns>The arguments.</returns>
    public static IReadOnlyList<string> Arguments(string model)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);

        // The id is passed as an argument, never spliced into the code. Offline (HF_HUB_OFFLINE=1) the call
        // succeeds only from the cache and says so, rather than failing in vLLM's start-up window.
        return
        [
            "-c",
            "import sys; from huggingface_hub import snapshot_download; " +
            "print('model-download: ' + sys.argv[1] + ' -> ' + snapshot_download(sys.argv[1]), flush=True)",
            model,
        ];
    }
}
