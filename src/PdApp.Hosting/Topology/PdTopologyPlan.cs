using PdApp.Hosting.KvConnectors;
using PdApp.Protocol;
using PdApp.Protocol.Connectors;

namespace PdApp.Hosting.Topology;

/// <summary>
/// The whole topology for one backend: every instance with its connector and the addresses peers use to
/// reach each other (the host's address with host networking, the resource name on the app's container
/// network, 127.0.0.1 for simulators).
/// </summary>
public sealed class PdTopologyPlan
{
    private PdTopologyPlan(PdOptions options, PdBackend backend, IReadOnlyList<PdInstancePlan> instances, string? sharedStorageRoot)
    {
        Options = options;
        Backend = backend;
        Instances = instances;
        SimulatorDataRoot = sharedStorageRoot;
    }

    /// <summary>The validated options.</summary>
    public PdOptions Options { get; }

    /// <summary>The resolved backend (never <see cref="PdBackend.Auto"/>).</summary>
    public PdBackend Backend { get; }

    /// <summary>The instances: prefills then decodes.</summary>
    public IReadOnlyList<PdInstancePlan> Instances { get; }

    /// <summary>Simulator backend: the host folder standing in for <c>/data</c>; null otherwise.</summary>
    public string? SimulatorDataRoot { get; }

    /// <summary>The connector name the proxy receives.</summary>
    public string Connector => Options.Connector;

    /// <summary>The connector's traits, as <see cref="ConnectorCatalog"/> describes it.</summary>
    public KvConnectorTraits ConnectorTraits => Traits(Options.Connector);

    /// <summary>The model name clients send (<c>--served-model-name</c>, else the model).</summary>
    public string ServedModelName => Options.ServedModelName ?? Options.Model;

    /// <summary>Whether the proxy must run the P2pNccl registration socket.</summary>
    public bool NeedsRegistry => Options.EffectiveConnectors().Any(c => c.NeedsRegistry);

    /// <summary>Whether the proxy must run the LMCache notification socket (<see cref="KvConnectorTraits.PrefillNotifiesProxy"/>).</summary>
    public bool NeedsKvReadyNotifications => Options.EffectiveConnectors().Any(c => c.PrefillNotifiesProxy);

    /// <summary>Plans <paramref name="options"/> for <paramref name="backend"/>.</summary>
    /// <param name="options">Validated options.</param>
    /// <param name="backend">The resolved backend.</param>
    /// <param name="simulatorDataRoot">Simulator backend: the host folder standing in for <c>/data</c> (default: a <c>pdapp-data</c> folder under the temp path).</param>
    /// <returns>The plan.</returns>
    public static PdTopologyPlan Create(PdOptions options, PdBackend backend, string? simulatorDataRoot = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (backend == PdBackend.Auto || !Enum.IsDefined(backend))
        {
            throw new ArgumentOutOfRangeException(nameof(backend), backend, "Resolve the backend before planning.");
        }

        var root = backend == PdBackend.Simulator
            ? simulatorDataRoot ?? Path.Combine(Path.GetTempPath(), "pdapp-data")
            : null;
        var layout = PdLayout.Create(options);
        var addresses = new PdAddresses(options, backend);
        var instances = new List<PdInstancePlan>(layout.Count);
        foreach (var instance in layout)
        {
            if (backend == PdBackend.External)
            {
                var urls = instance.Role == PdRole.Prefill ? options.External.Prefill : options.External.Decode;
                instances.Add(new PdInstancePlan(instance, null, new Uri(urls[instance.Index], UriKind.Absolute)));
                continue;
            }

            var connector = CreateConnector(Traits(options.Connector), options, instance, layout, addresses, root);
            if (options.KvConnectorExtraConfig.Count > 0)
            {
                connector = connector with { ExtraConfig = new Dictionary<string, string>(options.KvConnectorExtraConfig, StringComparer.Ordinal) };
            }

            instances.Add(new PdInstancePlan(instance, connector, null));
        }

        return new PdTopologyPlan(options, backend, instances, root);
    }

    private static KvConnectorTraits Traits(string name) =>
        ConnectorCatalog.TryGet(name, out var traits)
            ? traits
            : throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown connector; validate the options first.");

    private static KvConnector CreateConnector(
        KvConnectorTraits traits,
        PdOptions options,
        PdInstanceLayout instance,
        IReadOnlyList<PdInstanceLayout> layout,
        PdAddresses addresses,
        string? simulatorDataRoot)
    {
        switch (traits.Kind)
        {
            case KvConnectorKind.SharedStorage:
                return new SharedStorageKvConnector(instance.Role, MapDataPath(options.SharedStorage.Path, simulatorDataRoot));

            case KvConnectorKind.PyNccl:
                // kv_ip is the rank-0 member's address: it hosts the rendezvous store.
                var rankZero = layout.First(i => i.KvRank == 0);
                return new PyNcclKvConnector(
                    instance.Role, instance.KvRank, options.PyNccl.KvParallelSize ?? layout.Count, addresses.PeerHost(rankZero), options.PyNccl.KvPort)
                {
                    KvBufferSize = options.PyNccl.KvBufferSize,
                };

            case KvConnectorKind.P2pNccl:
                return new P2pNcclKvConnector(
                    instance.Role, addresses.PeerHost(instance), instance.KvPort, instance.Port, addresses.ProxyHost, options.RegistryPort)
                {
                    KvBufferSize = instance.Role == PdRole.Prefill ? options.P2pNccl.PrefillKvBufferSize : options.P2pNccl.DecodeKvBufferSize,
                    SendType = options.P2pNccl.SendType,
                    NcclNumChannels = options.P2pNccl.NcclNumChannels,
                    MemPoolSizeGb = options.P2pNccl.MemPoolSizeGb,
                };

            case KvConnectorKind.Nixl:
                return new NixlKvConnector(instance.Role, addresses.PeerHost(instance), instance.SideChannelPort)
                {
                    UcxTransports = options.Nixl.UcxTransports,
                    UcxNetDevices = options.Nixl.UcxNetDevices,
                    KvBufferDevice = options.Nixl.KvBufferDevice,
                };

            case KvConnectorKind.LMCacheV1:
                // Any prefill sends to any decode: the proxy names the receiver per request (disagg_spec)
                // and senders notify the proxy, so receivers and the proxy are what the engines are told.
                var rpcName = (instance.Role == PdRole.Prefill ? "producer" : "consumer") + (instance.Index + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
                return new LMCacheKvConnector(instance.Role, rpcName)
                {
                    ReceiverHost = instance.Role == PdRole.Decode ? addresses.PeerHost(instance) : null,
                    ReceiverBindHost = addresses.ListenHost,
                    InitPort = instance.LMCacheInitPort,
                    AllocPort = instance.LMCacheAllocPort,
                    Ranks = Math.Max(1, options.TensorParallelSize),
                    ProxyHost = instance.Role == PdRole.Prefill ? addresses.ProxyHost : null,
                    ProxyPort = options.LMCache.NotificationPort,
                    ChunkSize = options.LMCache.ChunkSize,
                    BufferSizeBytes = options.LMCache.BufferSizeBytes,
                    BufferDevice = options.LMCache.BufferDevice,
                    NixlBackends = options.LMCache.NixlBackends,
                    PythonHashSeed = options.LMCache.PythonHashSeed,
                };

            case KvConnectorKind.Multi:
                var children = options.Multi.Connectors
                    .Select(child => CreateConnector(Traits(child), options, instance, layout, addresses, simulatorDataRoot))
                    .ToList();
                return new MultiKvConnector(instance.Role, children);

            default:
                throw new ArgumentOutOfRangeException(nameof(traits), traits.Kind, "Unknown connector kind.");
        }
    }

    // The simulator runs on the host, where /data (a container mount) does not exist: the same relative
    // layout under a host folder keeps prefill and decode sharing one directory.
    private static string MapDataPath(string path, string? simulatorDataRoot)
    {
        if (simulatorDataRoot is null)
        {
            return path;
        }

        var relative = path.StartsWith("/data/", StringComparison.Ordinal) ? path["/data/".Length..] : path.TrimStart('/');
        return Path.Combine(simulatorDataRoot, relative.Replace('/', Path.DirectorySeparatorChar));
    }
}
