using PdApp.Protocol;

namespace PdApp.Hosting.Deployment.Model;

/// <summary>One vLLM server as the app model declares it, ready for a deployment writer.</summary>
public sealed record DeploymentEngine
{
    /// <summary>The resource name (<c>prefill-0</c>), used as service / workload name.</summary>
    public required string Name { get; init; }

    /// <summary>The part it plays.</summary>
    public required PdRole Role { get; init; }

    /// <summary>The image, <c>registry/repository:tag</c>.</summary>
    public required string Image { get; init; }

    /// <summary>The executable the container starts (<c>vllm</c> or <c>python3</c>), or null for the image's own.</summary>
    public string? Entrypoint { get; init; }

    /// <summary>The arguments after the entrypoint (<c>serve /data/dp7b/ --port 8100 ...</c>).</summary>
    public required IReadOnlyList<DeploymentValue> Args { get; init; }

    /// <summary>The environment, in declaration order.</summary>
    public required IReadOnlyList<KeyValuePair<string, DeploymentValue>> Environment { get; init; }

    /// <summary>Bind mounts (the <c>/data</c> folder).</summary>
    public required IReadOnlyList<DeploymentMount> Mounts { get; init; }

    /// <summary>Endpoints; the first named <c>http</c> serves the OpenAI API and <c>/health</c>.</summary>
    public required IReadOnlyList<DeploymentEndpoint> Endpoints { get; init; }

    /// <summary>The GPUs.</summary>
    public required DeploymentGpus Gpus { get; init; }

    /// <summary>Share the host's IPC namespace (<c>--ipc=host</c>): PyTorch needs a large <c>/dev/shm</c>.</summary>
    public bool HostIpc { get; init; }

    /// <summary><c>--ulimit memlock=-1</c>.</summary>
    public bool UnlimitedMemlock { get; init; }

    /// <summary><c>--ulimit stack=N</c>, or null.</summary>
    public long? StackLimitBytes { get; init; }

    /// <summary><c>--privileged</c>.</summary>
    public bool Privileged { get; init; }

    /// <summary><c>--cap-add</c> capabilities.</summary>
    public required IReadOnlyList<string> Capabilities { get; init; }

    /// <summary><c>--network=host</c>.</summary>
    public bool HostNetwork { get; init; }

    /// <summary>The liveness path on the <c>http</c> endpoint.</summary>
    public required string HealthPath { get; init; }

    /// <summary>The OpenAI-compatible HTTP endpoint.</summary>
    public DeploymentEndpoint HttpEndpoint => Endpoints.First(e => e.Name == VllmResource.HttpEndpointName);
}
