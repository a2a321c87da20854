namespace PdApp.Hosting.Topology;

/// <summary>Which address one process gives another, per backend and network mode.</summary>
internal sealed class PdAddresses(PdOptions options, PdBackend backend)
{
    /// <summary>How a container on Aspire's container network reaches a process on the host.</summary>
    public const string ContainerHostAlias = "host.docker.internal";

    /// <summary>The address peers reach <paramref name="instance"/> at.</summary>
    public string PeerHost(PdInstanceLayout instance) => backend switch
    {
        PdBackend.Simulator => "127.0.0.1",
        _ when options.HostNetwork => options.HostAddress,

        // Aspire attaches containers to one network on which each is reachable by its resource name.
        _ => instance.Name,
    };

    /// <summary>
    /// Where an engine binds a listener peers connect to by name: loopback for simulators on this machine, every
    /// interface in a container (its name resolves to the container's address, which is not known in advance).
    /// </summary>
    public string ListenHost => backend == PdBackend.Simulator ? "127.0.0.1" : "0.0.0.0";

    /// <summary>The address instances reach the proxy (a host process) at.</summary>
    public string ProxyHost => backend switch
    {
        PdBackend.Simulator => "127.0.0.1",
        _ when options.HostNetwork => options.HostAddress,
        _ => ContainerHostAlias,
    };
}
