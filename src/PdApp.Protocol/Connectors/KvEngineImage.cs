namespace PdApp.Protocol.Connectors;

/// <summary>
/// The engine image a connector needs when none is configured. The app host pins each one's
/// registry, repository and tag. Ordered by precedence: a MultiConnector takes the highest image
/// among its children, since that image carries every child's library.
/// </summary>
public enum KvEngineImage
{
    /// <summary>The pinned official vLLM image.</summary>
    Official,

    /// <summary>LMCache's vLLM image (LMCache and NIXL installed).</summary>
    LMCache,

    /// <summary>The guide's vLLM 0.7.2 image (v0 engine).</summary>
    GuidePyNccl,
}
