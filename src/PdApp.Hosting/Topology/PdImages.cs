using PdApp.Protocol.Connectors;

namespace PdApp.Hosting.Topology;

/// <summary>The engine image each connector gets when <c>Pd:Image</c> is not set.</summary>
public static class PdImages
{
    /// <summary>The pinned official vLLM image.</summary>
    public static string Official { get; } =
        $"{VllmContainerImageTags.Registry}/{VllmContainerImageTags.Image}:{VllmContainerImageTags.Tag}";

    /// <summary>The guide's vLLM 0.7.2 image (v0 engine, PyNcclConnector).</summary>
    public static string GuidePyNccl { get; } =
        $"{VllmContainerImageTags.GuideRegistry}/{VllmContainerImageTags.GuideImage}:{VllmContainerImageTags.GuidePyNcclTag}";

    /// <summary>The guide's vLLM 0.8.5 image (SharedStorageConnector).</summary>
    public static string GuideSharedStorage { get; } =
        $"{VllmContainerImageTags.GuideRegistry}/{VllmContainerImageTags.GuideImage}:{VllmContainerImageTags.GuideSharedStorageTag}";

    /// <summary>LMCache's vLLM image (LMCache and NIXL installed).</summary>
    public static string LMCache { get; } =
        $"{VllmContainerImageTags.Registry}/{VllmContainerImageTags.LMCacheImage}:{VllmContainerImageTags.LMCacheTag}";

    /// <summary>
    /// Where <paramref name="image"/> keeps <c>vllm</c> when its <c>PATH</c> does not lead there, else null. LMCache's image
    /// (LMCache docker/Dockerfile) creates the environment with <c>uv venv /opt/venv</c>, installs vLLM and LMCache into it,
    /// sets no <c>PATH</c> and starts <c>ENTRYPOINT ["/opt/venv/bin/vllm", "serve"]</c>: a bare <c>vllm</c> entrypoint is
    /// not found there.
    /// </summary>
    /// <param name="image">An image reference.</param>
    /// <returns>The directory, or null.</returns>
    public static string? BinDirectory(string image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return ImageReference.TryParse(image, out var reference)
            && reference!.Image.Equals(VllmContainerImageTags.LMCacheImage, StringComparison.OrdinalIgnoreCase)
                ? LMCacheBinDirectory
                : null;
    }

    /// <summary>LMCache's image's virtual environment.</summary>
    public const string LMCacheBinDirectory = "/opt/venv/bin";

    /// <summary>The default image for <paramref name="options"/>: <c>Pd:Image</c> when set, else by connector.</summary>
    /// <param name="options">The options.</param>
    /// <returns>An image reference <c>registry/repository:tag</c>.</returns>
    public static string For(PdOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!string.IsNullOrWhiteSpace(options.Image))
        {
            return options.Image;
        }

        // The catalog names each connector's image; with several, the one that carries them all.
        var image = options.EffectiveConnectors().Select(c => c.DefaultImage).DefaultIfEmpty(KvEngineImage.Official).Max();
        return For(image);
    }

    /// <summary>The pinned reference of <paramref name="image"/>.</summary>
    /// <param name="image">The image a connector needs (<see cref="KvConnectorTraits.DefaultImage"/>).</param>
    /// <returns>An image reference <c>registry/repository:tag</c>.</returns>
    public static string For(KvEngineImage image) => image switch
    {
        KvEngineImage.Official => Official,
        KvEngineImage.LMCache => LMCache,
        KvEngineImage.GuidePyNccl => GuidePyNccl,
        _ => throw new ArgumentOutOfRangeException(nameof(image), image, "Unknown engine image."),
    };
}
