namespace PdApp.Hosting.Containers;

/// <summary>The container engine that runs the containers; GPU flags differ between them.</summary>
public enum ContainerRuntimeKind
{
    /// <summary>Docker (Aspire's default): NVIDIA GPUs with <c>--gpus</c>.</summary>
    Docker,

    /// <summary>Podman: NVIDIA GPUs as CDI devices, <c>--device nvidia.com/gpu=...</c>.</summary>
    Podman,
}
