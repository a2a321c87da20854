using PdApp.Hosting.Deployment.Model;

namespace PdApp.Hosting.Deployment;

/// <summary>
/// The model download both deployments run before the engines (its command line: <see cref="Topology.ModelDownloadCommand"/>) (a one-shot compose service, a Kubernetes init
/// container): the Hugging Face equivalent of the seed's <c>modelscope download</c>, fetching the engine's
/// <c>serve &lt;org/name&gt;</c> model into the Hugging Face cache with <c>huggingface_hub.snapshot_download</c>
/// (a vLLM dependency, so vLLM's image runs it; files already cached are skipped). vLLM then loads from the cache
/// instead of downloading inside its start-up window. A model given as a path (<c>/data/dp7b/</c>) is not
/// downloaded: it must already be on the data volume.
/// </summary>
public static class ModelDownloadStep
{
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
}
