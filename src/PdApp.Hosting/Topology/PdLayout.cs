using System.Globalization;
using PdApp.Protocol;

namespace PdApp.Hosting.Topology;

/// <summary>Derives every instance's name, ports and GPUs from <see cref="PdOptions"/>.</summary>
public static class PdLayout
{
    /// <summary>The resource name of instance <paramref name="index"/> in <paramref name="role"/>.</summary>
    /// <param name="role">The role.</param>
    /// <param name="index">The index.</param>
    /// <returns>E.g. <c>prefill-0</c>.</returns>
    public static string InstanceName(PdRole role, int index) =>
        role.ToConfigName() + "-" + index.ToString(CultureInfo.InvariantCulture);

    /// <summary>Lays out the instances: prefills then decodes, GPUs handed out in that order.</summary>
    /// <param name="options">The options (counts must be non-negative).</param>
    /// <returns>The instances.</returns>
    /// <exception cref="FormatException">A <c>GpuIds</c> value is not a comma-separated list of integers.</exception>
    public static IReadOnlyList<PdInstanceLayout> Create(PdOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var prefillCount = options.Backend == PdBackend.External ? options.External.Prefill.Count : options.Prefill.Count;
        var decodeCount = options.Backend == PdBackend.External ? options.External.Decode.Count : options.Decode.Count;
        var gpusPerInstance = Math.Max(1, options.TensorParallelSize) * Math.Max(1, options.PipelineParallelSize);
        var stride = Math.Max(1, options.TensorParallelSize);
        var result = new List<PdInstanceLayout>();
        var position = 0;
        foreach (var (role, group, count) in new[] { (PdRole.Prefill, options.Prefill, prefillCount), (PdRole.Decode, options.Decode, decodeCount) })
        {
            for (var i = 0; i < count; i++, position++)
            {
                var overrides = i < group.Instances.Count ? group.Instances[i] : new PdInstanceOptions();
                var groupPath = $"{PdOptions.SectionName}:{(role == PdRole.Prefill ? "Prefill" : "Decode")}";
                var path = $"{groupPath}:Instances:{i}";
                var gpuIds = overrides.GpuIds is { } text
                    ? ParseGpuIds(text, path + ":GpuIds")
                    : Enumerable.Range(position * gpusPerInstance, gpusPerInstance).ToArray();
                var defaultKvPort = (role == PdRole.Prefill ? options.P2pNccl.PrefillKvBasePort : options.P2pNccl.DecodeKvBasePort) + (i * stride);
                result.Add(new PdInstanceLayout(InstanceName(role, i), role, i, position, path, overrides.Port ?? group.BasePort + i, gpuIds)
                {
                    KvRank = overrides.KvRank ?? position,
                    KvPort = overrides.KvPort ?? defaultKvPort,
                    SideChannelPort = overrides.SideChannelPort ?? options.Nixl.SideChannelBasePort + (position * stride),
                    KvEventsPort = options.KvEvents.BasePort + (position * options.KvEvents.PortsPerInstance),
                    KvEventsReplayPort = options.KvEvents.Replay ? options.KvEvents.BasePort + (position * options.KvEvents.PortsPerInstance) + 1 : 0,
                    LMCacheInitPort = role == PdRole.Decode ? options.LMCache.InitBasePort + (i * stride) : 0,
                    LMCacheAllocPort = role == PdRole.Decode ? options.LMCache.AllocBasePort + (i * stride) : 0,
                    PortSetting = overrides.Port is null ? groupPath + ":BasePort" : path + ":Port",
                    KvPortSetting = overrides.KvPort is null
                        ? $"Pd:P2pNccl:{(role == PdRole.Prefill ? "Prefill" : "Decode")}KvBasePort"
                        : path + ":KvPort",
                    SideChannelPortSetting = overrides.SideChannelPort is null ? "Pd:Nixl:SideChannelBasePort" : path + ":SideChannelPort",
                    Environment = PdEngineEnvironment.Merge(options, group, groupPath, overrides, path),
                });
            }
        }

        return result;
    }

    /// <summary>Parses <c>0,1</c> into GPU indices.</summary>
    /// <param name="text">The text.</param>
    /// <param name="setting">The setting's path, for the error message.</param>
    /// <returns>The indices.</returns>
    /// <exception cref="FormatException">Not a list of non-negative integers.</exception>
    public static int[] ParseGpuIds(string text, string setting)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var ids = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out ids[i]))
            {
                throw new FormatException($"{setting} must be comma-separated GPU indices such as '0,1'; '{text}' is not.");
            }
        }

        if (ids.Length == 0)
        {
            throw new FormatException($"{setting} must name at least one GPU index.");
        }

        return ids;
    }
}
