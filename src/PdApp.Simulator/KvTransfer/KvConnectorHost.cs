using Microsoft.Extensions.Hosting;

namespace PdApp.Simulator.KvTransfer;

/// <summary>Starts the connector's listeners and background work with the host, and stops them with it.</summary>
internal sealed class KvConnectorHost(IKvConnectorSimulation connector) : IHostedService
{
    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken) => connector.StartAsync(cancellationToken);

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await connector.DisposeAsync().ConfigureAwait(false);
    }
}
