using System.Globalization;
using PdApp.Protocol;
using PdApp.Protocol.Connectors;

namespace PdApp.Hosting.KvConnectors;

/// <summary>
/// <c>NixlConnector</c> (vLLM v1): decode pulls the prompt's KV blocks from prefill over NIXL/UCX after the
/// proxy hands it prefill's <c>kv_transfer_params</c>. Instances exchange NIXL metadata over a side channel
/// at <see cref="SideChannelHost"/>:<see cref="SideChannelPort"/>, which must be distinct per instance on a
/// host (vllm/distributed/kv_transfer/kv_connector/v1/nixl_connector.py, vllm/envs.py).
/// </summary>
public sealed record NixlKvConnector : KvConnector
{
    /// <summary>Creates the connector.</summary>
    /// <param name="role">The instance's role (written as <c>kv_both</c>, as vLLM's NIXL examples do).</param>
    /// <param name="sideChannelHost">The address peers reach this instance's side channel at.</param>
    /// <param name="sideChannelPort">The side-channel port.</param>
    public NixlKvConnector(PdRole role, string sideChannelHost, int sideChannelPort)
        : base(role)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sideChannelHost);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sideChannelPort);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(sideChannelPort, 65535);
        SideChannelHost = sideChannelHost;
        SideChannelPort = sideChannelPort;
    }

    /// <summary><c>VLLM_NIXL_SIDE_CHANNEL_HOST</c>.</summary>
    public string SideChannelHost { get; }

    /// <summary><c>VLLM_NIXL_SIDE_CHANNEL_PORT</c>.</summary>
    public int SideChannelPort { get; }

    /// <summary><c>UCX_TLS</c>: UCX transports (e.g. <c>cuda_ipc,cuda_copy,tcp</c>); null leaves UCX's choice.</summary>
    public string? UcxTransports { get; init; }

    /// <summary><c>UCX_NET_DEVICES</c>: the NICs UCX may use; null leaves UCX's choice.</summary>
    public string? UcxNetDevices { get; init; }

    /// <summary><c>kv_buffer_device</c>: <c>cuda</c> (default) or <c>cpu</c> for hosts without GPU-direct transfers.</summary>
    public string? KvBufferDevice { get; init; }

    /// <inheritdoc/>
    public override KvConnectorKind Kind => KvConnectorKind.Nixl;

    /// <inheritdoc/>
    /// <remarks>Both sides run <c>kv_both</c>: the PD direction comes from <c>kv_transfer_params</c>, not the role.</remarks>
    public override string KvRole => KvRoles.Both;

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, string> EnvironmentVariables
    {
        get
        {
            var env = new Dictionary<string, string>
            {
                [KvConnectorEnvironment.NixlSideChannelHost] = SideChannelHost,
                [KvConnectorEnvironment.NixlSideChannelPort] = SideChannelPort.ToString(CultureInfo.InvariantCulture),
            };
            if (UcxTransports is not null)
            {
                env["UCX_TLS"] = UcxTransports;
            }

            if (UcxNetDevices is not null)
            {
                env["UCX_NET_DEVICES"] = UcxNetDevices;
            }

            return env;
        }
    }

    /// <inheritdoc/>
    public override KvTransferConfig ToKvTransferConfig() => new()
    {
        KvConnector = Name,
        KvRole = KvRole,
        KvBufferDevice = KvBufferDevice,
        KvConnectorExtraConfig = BuildExtraConfig(),
    };
}
