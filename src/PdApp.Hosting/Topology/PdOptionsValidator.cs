using System.Globalization;
using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Protocol.Connectors;

namespace PdApp.Hosting.Topology;

/// <summary>
/// Rejects impossible topologies at start-up, each failure naming the setting to fix (e.g.
/// <c>Pd:PyNccl:KvParallelSize</c>). It validates the laid-out instances (<see cref="PdLayout"/>), so
/// derived ports, ranks and GPUs are checked, not only what was typed.
/// </summary>
public sealed class PdOptionsValidator : IValidateOptions<PdOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, PdOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        ValidateScalars(options, failures);
        ValidateConnector(options, failures);
        ValidateKvEvents(options, failures);

        IReadOnlyList<PdInstanceLayout>? layout = null;
        try
        {
            layout = PdLayout.Create(options);
        }
        catch (FormatException ex)
        {
            failures.Add(ex.Message);
        }

        if (layout is not null)
        {
            ValidateRoles(options, layout, failures);
            if (options.Backend != PdBackend.External)
            {
                ValidateGpus(options, layout, failures);
                ValidatePyNcclGroup(options, layout, failures);
            }

            ValidatePorts(options, layout, failures);
            ValidateModelDownload(options, failures);
            ValidateEnvironment(options, layout, failures);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateScalars(PdOptions o, List<string> failures)
    {
        if (!Enum.IsDefined(o.Backend))
        {
            failures.Add($"Pd:Backend '{o.Backend}' is unknown; use auto, vllm, simulator or external.");
        }

        if (string.IsNullOrWhiteSpace(o.Model))
        {
            failures.Add("Pd:Model is required: a model path inside the containers (e.g. /data/dp7b/) or a Hugging Face id.");
        }

        if (o.ServedModelName is { } served && string.IsNullOrWhiteSpace(served))
        {
            failures.Add("Pd:ServedModelName must not be blank; leave it unset to serve under the model's name.");
        }

        if (!ImageReference.TryParse(PdImages.For(o), out _))
        {
            failures.Add($"Pd:Image '{o.Image}' must be '[registry/]repository:tag' with an explicit tag.");
        }

        if (o.MaxModelLen is <= 0)
        {
            failures.Add($"Pd:MaxModelLen must be at least 1 (got {o.MaxModelLen}).");
        }

        if (o.GpuMemoryUtilization is { } utilisation && !(utilisation > 0 && utilisation <= 1))
        {
            failures.Add($"Pd:GpuMemoryUtilization must be in (0, 1] (got {utilisation.ToString(CultureInfo.InvariantCulture)}).");
        }

        if (o.TensorParallelSize < 1)
        {
            failures.Add($"Pd:TensorParallelSize must be at least 1 (got {o.TensorParallelSize}).");
        }

        if (o.PipelineParallelSize < 1)
        {
            failures.Add($"Pd:PipelineParallelSize must be at least 1 (got {o.PipelineParallelSize}).");
        }

        if (string.IsNullOrWhiteSpace(o.DataPath))
        {
            failures.Add("Pd:DataPath is required: the host folder mounted at /data.");
        }

        if (o.HostNetwork && string.IsNullOrWhiteSpace(o.HostAddress))
        {
            failures.Add("Pd:HostAddress is required with Pd:HostNetwork: the address peers reach this host at.");
        }

        if (o.NetworkInterface is { } nic && string.IsNullOrWhiteSpace(nic))
        {
            failures.Add("Pd:NetworkInterface must not be blank; leave it unset to let NCCL and Gloo choose.");
        }

        if (o.Backend == PdBackend.External)
        {
            ValidateUrls("Pd:External:Prefill", o.External.Prefill, failures);
            ValidateUrls("Pd:External:Decode", o.External.Decode, failures);
        }
    }

    private static void ValidateUrls(string setting, List<string> urls, List<string> failures)
    {
        for (var i = 0; i < urls.Count; i++)
        {
            if (!Uri.TryCreate(urls[i], UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                failures.Add($"{setting}:{i} must be an absolute http(s) URL such as http://10.0.0.5:8100 (got '{urls[i]}').");
            }
        }
    }

    private static void ValidateConnector(PdOptions o, List<string> failures)
    {
        if (!ConnectorCatalog.TryGet(o.Connector, out var connector))
        {
            failures.Add($"Pd:Connector '{o.Connector}' is unknown; use one of: {string.Join(", ", ConnectorCatalog.Names)}.");
            return;
        }

        if (connector.IsComposite)
        {
            if (o.Multi.Connectors.Count == 0)
            {
                failures.Add("Pd:Multi:Connectors must list at least one child connector (e.g. Pd:Multi:Connectors:0=NixlConnector).");
            }

            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < o.Multi.Connectors.Count; i++)
            {
                var child = o.Multi.Connectors[i];
                if (!ConnectorCatalog.TryGet(child, out var childTraits) || !childTraits.CanBeMultiChild)
                {
                    failures.Add($"Pd:Multi:Connectors:{i} '{child}' cannot be a MultiConnector child; use a v1 connector other than MultiConnector.");
                }
                else if (!seen.Add(child))
                {
                    failures.Add($"Pd:Multi:Connectors:{i} '{child}' is listed twice.");
                }
            }
        }

        if (o.Uses(KvConnectorKind.SharedStorage))
        {
            // Both sides must see the same files: only the /data bind mount is shared between the containers.
            var path = o.SharedStorage.Path;
            if (string.IsNullOrWhiteSpace(path) || !path.StartsWith("/data/", StringComparison.Ordinal) || path.Split('/').Contains(".."))
            {
                failures.Add($"Pd:SharedStorage:Path '{path}' must lie inside the shared volume mounted at /data (e.g. /data/models/pd_local_storage).");
            }
        }

        if (o.Uses(KvConnectorKind.P2pNccl) && !Enum.IsDefined(o.P2pNccl.SendType))
        {
            failures.Add($"Pd:P2pNccl:SendType '{o.P2pNccl.SendType}' is unknown; use Put, Get or PutAsync.");
        }

        if (o.Uses(KvConnectorKind.LMCacheV1) && o.LMCache.ChunkSize < 1)
        {
            failures.Add($"Pd:LMCache:ChunkSize must be at least 1 (got {o.LMCache.ChunkSize}).");
        }

        if (o.Uses(KvConnectorKind.LMCacheV1) && o.LMCache.BufferSizeBytes < 1)
        {
            failures.Add($"Pd:LMCache:BufferSizeBytes must be positive (got {o.LMCache.BufferSizeBytes}); LMCache's PD backend needs a transfer buffer.");
        }

        if (o.Uses(KvConnectorKind.LMCacheV1) && string.IsNullOrWhiteSpace(o.LMCache.NixlBackends))
        {
            failures.Add("Pd:LMCache:NixlBackends must name at least one NIXL backend (e.g. UCX).");
        }
    }

    private static void ValidateRoles(PdOptions o, IReadOnlyList<PdInstanceLayout> layout, List<string> failures)
    {
        // A PD deployment needs at least one producer and one consumer of KV.
        var (prefillSetting, decodeSetting) = o.Backend == PdBackend.External
            ? ("Pd:External:Prefill", "Pd:External:Decode")
            : ("Pd:Prefill:Count", "Pd:Decode:Count");
        if (!layout.Any(i => i.Role == PdRole.Prefill))
        {
            failures.Add($"{prefillSetting} must give at least 1 prefill instance (kv_producer).");
        }

        if (!layout.Any(i => i.Role == PdRole.Decode))
        {
            failures.Add($"{decodeSetting} must give at least 1 decode instance (kv_consumer).");
        }

        if (o.Backend != PdBackend.External)
        {
            if (o.Prefill.Instances.Count > Math.Max(0, o.Prefill.Count))
            {
                failures.Add($"Pd:Prefill:Instances has {o.Prefill.Instances.Count} entries but Pd:Prefill:Count is {o.Prefill.Count}.");
            }

            if (o.Decode.Instances.Count > Math.Max(0, o.Decode.Count))
            {
                failures.Add($"Pd:Decode:Instances has {o.Decode.Instances.Count} entries but Pd:Decode:Count is {o.Decode.Count}.");
            }
        }
    }

    private static void ValidateGpus(PdOptions o, IReadOnlyList<PdInstanceLayout> layout, List<string> failures)
    {
        var perInstance = Math.Max(1, o.TensorParallelSize) * Math.Max(1, o.PipelineParallelSize);
        var owners = new Dictionary<int, PdInstanceLayout>();
        foreach (var instance in layout)
        {
            if (instance.GpuIds.Count != perInstance)
            {
                failures.Add($"{instance.SettingPath}:GpuIds gives {instance.Name} {instance.GpuIds.Count} GPU(s), but Pd:TensorParallelSize × Pd:PipelineParallelSize needs {perInstance}.");
            }

            foreach (var gpu in instance.GpuIds)
            {
                if (owners.TryGetValue(gpu, out var owner))
                {
                    if (owner != instance)
                    {
                        failures.Add($"{instance.SettingPath}:GpuIds gives GPU {gpu} to {instance.Name}, but {owner.SettingPath}:GpuIds already gives it to {owner.Name}.");
                    }
                    else
                    {
                        failures.Add($"{instance.SettingPath}:GpuIds lists GPU {gpu} twice.");
                    }
                }
                else
                {
                    owners[gpu] = instance;
                }
            }
        }
    }

    private static void ValidatePyNcclGroup(PdOptions o, IReadOnlyList<PdInstanceLayout> layout, List<string> failures)
    {
        if (!o.Uses(KvConnectorKind.PyNccl))
        {
            return;
        }

        // Every instance joins the one NCCL group; the producer waits until kv_parallel_size members joined
        // (vllm/distributed/kv_transfer/kv_pipe/pynccl_pipe.py), so a wrong size hangs start-up forever.
        var size = o.PyNccl.KvParallelSize ?? layout.Count;
        if (size != layout.Count)
        {
            failures.Add($"Pd:PyNccl:KvParallelSize is {size} but the topology has {layout.Count} NCCL members (prefill + decode instances); they must be equal.");
        }

        var ranks = new Dictionary<int, PdInstanceLayout>();
        foreach (var instance in layout)
        {
            if (instance.KvRank < 0 || instance.KvRank >= size)
            {
                failures.Add($"{instance.SettingPath}:KvRank {instance.KvRank} of {instance.Name} must be in [0, {size}) (Pd:PyNccl:KvParallelSize).");
            }

            if (ranks.TryGetValue(instance.KvRank, out var other))
            {
                failures.Add($"{instance.SettingPath}:KvRank {instance.KvRank} of {instance.Name} is already the rank of {other.Name} ({other.SettingPath}:KvRank); ranks must be unique.");
            }
            else
            {
                ranks[instance.KvRank] = instance;
            }
        }
    }

    private static void ValidateEnvironment(PdOptions options, IReadOnlyList<PdInstanceLayout> layout, List<string> failures)
    {
        if (options.Backend == PdBackend.External)
        {
            foreach (var variable in layout.SelectMany(i => i.Environment.Values).DistinctBy(v => v.Setting))
            {
                failures.Add($"{variable.Setting} has no effect with Pd:Backend external: PdApp does not start those engines.");
            }

            return;
        }

        if (failures.Count > 0 || layout.All(i => i.Environment.Count == 0))
        {
            return;
        }

        // The variables each connector sets come from the same plan the engines are declared from.
        foreach (var instance in PdTopologyPlan.Create(options, PdBackend.Vllm).Instances)
        {
            PdEngineEnvironment.Validate(instance.Layout, instance.KvConnector!.Name, instance.KvConnector.EnvironmentVariables, failures);
        }
    }

    private static void ValidateModelDownload(PdOptions o, List<string> failures)
    {
        var download = o.ModelDownload;
        if (download.Source == PdModelDownloadSource.None)
        {
            return;
        }

        if (!Enum.IsDefined(download.Source))
        {
            failures.Add($"Pd:ModelDownload:Source '{download.Source}' is unknown; use None, HuggingFace or ModelScope.");
            return;
        }

        if (o.Backend == PdBackend.External)
        {
            failures.Add("Pd:ModelDownload:Source has no effect with Pd:Backend external: PdApp does not start those engines.");
            return;
        }

        var target = PdModelDownload.TargetDirectory(o);
        if (PdModelDownload.Repository(o) is null)
        {
            failures.Add($"Pd:ModelDownload:Repository is required: the hub id to download into Pd:Model ({o.Model}), e.g. deepseek-ai/DeepSeek-R1-Distill-Qwen-7B.");
        }

        if (target is not null && !target.StartsWith(VllmResource.DataMountPath + "/", StringComparison.Ordinal))
        {
            failures.Add($"Pd:Model {target} must lie inside the {VllmResource.DataMountPath} mount (Pd:DataPath) for Pd:ModelDownload to download into it.");
        }

        if (target is null && download.Source == PdModelDownloadSource.ModelScope)
        {
            failures.Add("Pd:ModelDownload:Source ModelScope downloads into a folder: set Pd:Model to a path under /data (e.g. /data/dp7b/) and Pd:ModelDownload:Repository to the ModelScope id.");
        }

        if (target is null && download.Source == PdModelDownloadSource.HuggingFace && string.IsNullOrWhiteSpace(o.HuggingFaceCachePath))
        {
            failures.Add($"Pd:ModelDownload downloads {o.Model} into the Hugging Face cache: set Pd:HuggingFaceCachePath (a host folder) so the engines find it, or set Pd:Model to a path under /data.");
        }
    }

    private static void ValidateKvEvents(PdOptions o, List<string> failures)
    {
        const string S = PdKvEventsOptions.SectionPath;
        var events = o.KvEvents;
        if (events.BlockSize is { } blockSize && blockSize is < 1 or > 1024)
        {
            failures.Add($"{S}:BlockSize must be between 1 and 1024 tokens (got {blockSize}); vLLM's CUDA default is 16.");
        }

        if (events.PrefixCachingHashAlgo is { } algo && string.IsNullOrWhiteSpace(algo))
        {
            failures.Add($"{S}:PrefixCachingHashAlgo must not be blank; leave it unset for the engine's default (e.g. sha256, sha256_cbor).");
        }

        if (events.Enabled == false && events.ProxyUsesKvCache && o.Backend != PdBackend.External)
        {
            failures.Add(
                $"{S}:Enabled is false, but the proxy routes on the engines' KV caches (Pd:Proxy:Balancing:Prefill/Decode=KvAware, " +
                "Pd:Proxy:KvCache:Enabled or Pd:Proxy:Disaggregation:SkipPrefillBelowUncachedTokens): without events it always falls back. " +
                $"Remove {S}:Enabled, or choose another policy.");
        }
    }

    private static void ValidatePorts(PdOptions o, IReadOnlyList<PdInstanceLayout> layout, List<string> failures)
    {
        var seen = new Dictionary<int, (string Setting, string Owner)>();
        foreach (var (port, setting, owner, _) in PdPortClaims.For(o, layout))
        {
            if (port is < 1 or > 65535)
            {
                failures.Add($"{setting} {port} of {owner} is not a valid port (1-65535).");
                continue;
            }

            if (seen.TryGetValue(port, out var first))
            {
                failures.Add($"{setting} {port} of {owner} clashes with {first.Setting} of {first.Owner}; every port must be distinct.");
            }
            else
            {
                seen[port] = (setting, owner);
            }
        }
    }
}
