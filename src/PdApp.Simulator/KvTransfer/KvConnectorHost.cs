using Microsoft.Extensions.Hosting;

namespace PdApp.Simulator.KvTransfer;

/// <summary>
/// Starts the connector's listeners and background work with the host. The service provider owns the
/// connector and disposes it (closing listeners) when the application is disposed.
/// </summary>
internal sealed class KvConnectorHost(IKvConnectorSimulation connector) : IHostedService
{
    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken) => connector.StartAsync(cancellationToken);

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
