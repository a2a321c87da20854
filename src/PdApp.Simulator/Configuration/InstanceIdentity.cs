
namespace PdApp.Simulator.Configuration;

/// <summary>
/// Who this instance is: its name (<c>--instance-name</c>, else <c>OTEL_SERVICE_NAME</c>, else
/// <c>host:port</c> once Kestrel has bound, so port 0 shows the real port) and its engine id.
/// </summary>
internal sealed class InstanceIdentity(SimulatorOptions options, SimulatorEnvironment environment)
{
    private string? _boundName;

    /// <summary>The engine id (<c>kv_transfer_config.engine_id</c>, else a random uuid, as vLLM).</summary>
    public string EngineId { get; } = options.KvTransfer?.EngineId ?? Guid.NewGuid().ToString();

    /// <summary>The HTTP port actually bound (known after start).</summary>
    public int HttpPort { get; private set; }

    /// <summary>The instance name.</summary>
    public string Name =>
        options.InstanceName
        ?? environment.Get("OTEL_SERVICE_NAME")
        ?? _boundName
        ?? $"{options.Host}:{options.Port}";

    /// <summary>Records the bound address once Kestrel listens.</summary>
    public void SetBound(Uri address)
    {
        HttpPort = address.Port;
        _boundName = $"{address.Host}:{address.Port}";
    }
}
