using System.Globalization;
using k8s.Models;
using PdApp.Hosting.Deployment.Model;
using PdApp.Hosting.Topology;

namespace PdApp.Hosting.Deployment.Kubernetes;

/// <summary>
/// Where the engines' model and Hugging Face cache live in a cluster, and the step that fills it. By default a
/// claim the manifests create (<see cref="PdKubernetesOptions.ModelClaimName"/>) backs <c>/data</c> and, under
/// the sub-path <see cref="CacheSubPath"/>, the Hugging Face cache, so a restarted pod finds its download; no node
/// needs a prepared folder. An init container downloads a Hugging Face model before vLLM starts, so the startup
/// probe times model loading only.
/// </summary>
internal sealed class KubernetesModelStorage(PdKubernetesOptions options)
{
    /// <summary>The cache's sub-path on the model volume.</summary>
    public const string CacheSubPath = "hf-cache";

    private const string DataVolumeName = "data";
    private const string CacheVolumeName = "hf-cache";
    private const string DownloadContainerName = "model-download";

    /// <summary>Whether the model volume is a claim these manifests create.</summary>
    public bool CreatesClaim => options.ModelVolume is null;

    /// <summary>Whether engines on different nodes see the same files (a shared claim); otherwise they must share a node.</summary>
    public bool IsSharedAcrossNodes => CreatesClaim && options.ModelVolumeAccessMode == "ReadWriteMany";

    /// <summary>The generated claim, or null when <see cref="PdKubernetesOptions.ModelVolume"/> names one.</summary>
    public V1PersistentVolumeClaim? Claim(Func<string, V1ObjectMeta> metadata) => CreatesClaim
        ? new V1PersistentVolumeClaim
        {
            ApiVersion = "v1",
            Kind = "PersistentVolumeClaim",
            Metadata = metadata(options.ModelClaimName),
            Spec = new V1PersistentVolumeClaimSpec
            {
                AccessModes = [options.ModelVolumeAccessMode],
                StorageClassName = options.StorageClassName,
                Resources = new V1VolumeResourceRequirements
                {
                    Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new ResourceQuantity(options.ModelVolumeSize) },
                },
            },
        }
        : null;

    /// <summary>Adds the data and cache volumes and mounts for <paramref name="engine"/>.</summary>
    public void AddVolumes(DeploymentEngine engine, List<V1Volume> volumes, List<V1VolumeMount> mounts)
    {
        var data = engine.Mounts.FirstOrDefault(m => m.Target == VllmResource.DataMountPath);
        var cache = engine.Mounts.FirstOrDefault(m => m.Target == VllmResource.HuggingFaceCachePath);
        volumes.Add(DataVolume(data?.IsReadOnly ?? false));
        mounts.Add(new V1VolumeMount { Name = DataVolumeName, MountPath = VllmResource.DataMountPath, ReadOnlyProperty = data?.IsReadOnly == true ? true : null });

        if (cache is not null)
        {
            // The model names its own cache folder (Pd:HuggingFaceCachePath): a node folder as on one host.
            volumes.Add(new V1Volume { Name = CacheVolumeName, HostPath = new V1HostPathVolumeSource { Path = cache.Source, Type = "DirectoryOrCreate" } });
            mounts.Add(new V1VolumeMount { Name = CacheVolumeName, MountPath = VllmResource.HuggingFaceCachePath });
        }
        else
        {
            mounts.Add(new V1VolumeMount { Name = DataVolumeName, MountPath = VllmResource.HuggingFaceCachePath, SubPath = CacheSubPath });
        }

        for (var i = 0; i < engine.Mounts.Count; i++)
        {
            var mount = engine.Mounts[i];
            if (mount.Target is VllmResource.DataMountPath or VllmResource.HuggingFaceCachePath)
            {
                continue;
            }

            var name = "mount-" + i.ToString(CultureInfo.InvariantCulture);
            volumes.Add(new V1Volume { Name = name, HostPath = new V1HostPathVolumeSource { Path = mount.Source, Type = "DirectoryOrCreate" } });
            mounts.Add(new V1VolumeMount { Name = name, MountPath = mount.Target, ReadOnlyProperty = mount.IsReadOnly ? true : null });
        }
    }

    /// <summary>
    /// The init container downloading <paramref name="engine"/>'s Hugging Face model into the cache, or null when
    /// the model is a path or downloads are off. It runs vLLM's own image (huggingface_hub is a vLLM dependency)
    /// with the engine's environment (<c>HF_TOKEN</c>), and skips files already in the cache.
    /// </summary>
    public V1Container? DownloadContainer(DeploymentEngine engine, V1Container vllm)
    {
        if (!options.ModelDownload || ModelDownloadStep.HuggingFaceModel(engine) is not { } model)
        {
            return null;
        }

        return new V1Container
        {
            Name = DownloadContainerName,
            Image = vllm.Image,
            Command = [ModelDownloadCommand.Executable],
            Args = [.. ModelDownloadCommand.Arguments(model)],
            Env = vllm.Env,
            VolumeMounts = vllm.VolumeMounts,
            SecurityContext = vllm.SecurityContext,
        };
    }

    private V1Volume DataVolume(bool readOnly)
    {
        if (options.ModelVolume is { } setting && KubernetesModelVolume.TryParse(setting, out var volume))
        {
            return volume.ClaimName is { } claim
                ? new V1Volume { Name = DataVolumeName, PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = claim, ReadOnlyProperty = readOnly ? true : null } }
                : new V1Volume { Name = DataVolumeName, HostPath = new V1HostPathVolumeSource { Path = volume.HostPath, Type = "DirectoryOrCreate" } };
        }

        return new V1Volume
        {
            Name = DataVolumeName,
            PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = options.ModelClaimName },
        };
    }
}
