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

    /// <summary>The address instances reach the proxy (a host process) at.</summary>
    public string ProxyHost => backend switch
    {
        PdBackend.Simulator => "127.0.0.1",
        _ when options.HostNetwork => options.HostAddress,
        _ => ContainerHostAlias,
    };
}
