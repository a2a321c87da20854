namespace PdApp.Hosting.Containers;

/// <summary>Who made the GPUs a container is given; decides the devices passed and the variable that restricts them.</summary>
public enum GpuVendor
{
    /// <summary>NVIDIA GPUs through the NVIDIA Container Toolkit (<c>--gpus</c> on Docker, CDI devices on Podman).</summary>
    Nvidia,

    /// <summary>AMD GPUs through ROCm: the <c>/dev/kfd</c> and <c>/dev/dri</c> devices; the image must be a ROCm build of vLLM.</summary>
    Amd,
}
