using PdApp.Protocol;

namespace PdApp.Hosting.Topology;

/// <summary>
/// Named presets for <see cref="PdOptions"/> (<c>Pd:Recipe</c>). A recipe sets defaults before the
/// configuration is bound, so every key given explicitly still wins.
/// </summary>
public static class PdRecipes
{
    /// <summary>
    /// <c>default</c>: the guide's SharedStorageConnector recipe (path <c>/data/models/pd_local_storage</c>,
    /// <c>--max-model-len 4096</c>, <c>--gpu-memory-utilization 0.8</c>) on the pinned official vLLM image.
    /// </summary>
    public const string Default = "default";

    /// <summary>
    /// <c>guide-shared-storage</c>: the same recipe on the guide's own vLLM 0.8.5 image
    /// (<c>registry.cn-hangzhou.aliyuncs.com/lky-deploy/llm:vllm-server-0.8.5-pytorch2.7-cu128</c>).
    /// </summary>
    public const string GuideSharedStorage = "guide-shared-storage";

    /// <summary>
    /// <c>guide-pynccl</c>: the guide's PyNcclConnector recipe: its vLLM 0.7.2 image, <c>--max-model-len 65535</c>,
    /// <c>--gpu-memory-utilization 0.9</c>, <c>--privileged</c>, <c>--cap-add=SYS_PTRACE</c>,
    /// <c>--network=host</c>, <c>GLOO_SOCKET_IFNAME</c>/<c>NCCL_SOCKET_IFNAME</c> = <c>eth0</c>.
    /// </summary>
    public const string GuidePyNccl = "guide-pynccl";

    /// <summary>Every recipe name.</summary>
    public static IReadOnlyList<string> All { get; } = [Default, GuideSharedStorage, GuidePyNccl];

    /// <summary>Creates options holding the defaults of <paramref name="recipe"/>.</summary>
    /// <param name="recipe">A name from <see cref="All"/> (case-insensitive).</param>
    /// <returns>The options.</returns>
    /// <exception cref="ArgumentException">Unknown recipe.</exception>
    public static PdOptions Create(string recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        var options = new PdOptions();
        switch (recipe.Trim().ToLowerInvariant())
        {
            case Default:
                options.Recipe = Default;
                break;
            case GuideSharedStorage:
                options.Recipe = GuideSharedStorage;
                ApplyGuideContainer(options);
                options.Image = PdImages.GuideSharedStorage;
                break;
            case GuidePyNccl:
                options.Recipe = GuidePyNccl;
                ApplyGuideContainer(options);
                options.Connector = KvConnectorNames.PyNccl;
                options.Image = PdImages.GuidePyNccl;
                options.MaxModelLen = 65535;
                options.GpuMemoryUtilization = 0.9;
                break;
            default:
                throw new ArgumentException(
                    $"Pd:Recipe '{recipe}' is unknown; use one of: {string.Join(", ", All)}.", nameof(recipe));
        }

        return options;
    }

    // The guide's docker run: --privileged --cap-add=SYS_PTRACE --network=host, NCCL/Gloo on eth0.
    private static void ApplyGuideContainer(PdOptions options)
    {
        options.Privileged = true;
        options.Capabilities = "SYS_PTRACE";
        options.HostNetwork = true;
        options.NetworkInterface = "eth0";
    }
}
