using PdApp.Hosting.Deployment.Model;
using PdApp.Hosting.Topology;

namespace PdApp.Hosting.Deployment.Compose;

/// <summary>
/// The model download on one host: a one-shot service per served Hugging Face model (<see cref="ModelDownloadStep"/>)
/// that the engines wait for (<c>service_completed_successfully</c>), and the named volume <see cref="CacheVolume"/>
/// holding the Hugging Face cache across restarts, mounted by the step and every engine that does not mount its
/// own cache folder. Without it each container downloads the model on every start, inside its health-check window.
/// </summary>
internal sealed class ComposeModelDownload
{
    /// <summary>The named volume holding the Hugging Face cache.</summary>
    public const string CacheVolume = "hf-cache";

    /// <summary>The download service's name (suffixed <c>-1</c>, <c>-2</c> for further models).</summary>
    public const string ServiceName = "model-download";

    private readonly Dictionary<string, string> _serviceOfEngine = new(StringComparer.Ordinal);
    private readonly List<(string Service, DeploymentEngine Engine, string Model)> _downloads = [];

    public ComposeModelDownload(DeploymentSnapshot snapshot, bool enabled)
    {
        if (!enabled)
        {
            return;
        }

        foreach (var byModel in snapshot.Engines
            .Select(e => (Engine: e, Model: ModelDownloadStep.HuggingFaceModel(e)))
            .Where(e => e.Model is not null)
            .GroupBy(e => e.Model!, StringComparer.Ordinal))
        {
            var service = _downloads.Count == 0 ? ServiceName : $"{ServiceName}-{_downloads.Count}";
            _downloads.Add((service, byModel.First().Engine, byModel.Key));
            foreach (var (engine, _) in byModel)
            {
                _serviceOfEngine[engine.Name] = service;
            }
        }
    }

    /// <summary>Whether any engine mounts the named cache volume.</summary>
    public bool UsesCacheVolume { get; private set; }

    /// <summary>The download service <paramref name="engine"/> waits for, or null.</summary>
    public string? DownloadOf(DeploymentEngine engine) => _serviceOfEngine.GetValueOrDefault(engine.Name);

    /// <summary>The engine's volumes: its bind mounts, plus the cache volume unless it mounts its own cache.</summary>
    public List<Dictionary<string, object>> Volumes(DeploymentEngine engine)
    {
        var volumes = engine.Mounts.Select(m => new Dictionary<string, object>
        {
            ["type"] = "bind",
            ["source"] = m.Source,
            ["target"] = m.Target,
            ["read_only"] = m.IsReadOnly,
        }).ToList();
        if (DownloadOf(engine) is not null && engine.Mounts.All(m => m.Target != VllmResource.HuggingFaceCachePath))
        {
            volumes.Add(new Dictionary<string, object> { ["type"] = "volume", ["source"] = CacheVolume, ["target"] = VllmResource.HuggingFaceCachePath });
            UsesCacheVolume = true;
        }

        return volumes;
    }

    /// <summary>The one-shot services, built with the same volumes and Hugging Face settings as their first engine.</summary>
    public IEnumerable<(string Name, Dictionary<string, object> Service)> Services(Func<DeploymentEngine, Dictionary<string, string>> environment)
    {
        foreach (var (name, engine, model) in _downloads)
        {
            var service = new Dictionary<string, object>
            {
                ["image"] = engine.Image,
                ["entrypoint"] = new[] { ModelDownloadCommand.Executable },
                ["command"] = ModelDownloadCommand.Arguments(model).Select(a => a.Replace("$", "$$", StringComparison.Ordinal)).ToList(),
            };

            // The token and hub settings (HF_TOKEN, HF_ENDPOINT, HF_HUB_OFFLINE, ...) the engine has.
            var hub = environment(engine).Where(e => e.Key.StartsWith("HF_", StringComparison.Ordinal)).ToDictionary(StringComparer.Ordinal);
            if (hub.Count > 0)
            {
                service["environment"] = hub;
            }

            // No restart policy: compose's default ("no") lets it exit once, which the engines wait for.
            service["volumes"] = Volumes(engine);
            yield return (name, service);
        }
    }
}
