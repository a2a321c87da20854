using System.Net;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdApp.Proxy.Routing.Options;

namespace PdApp.Proxy.Routing.Health;

/// <summary>
/// Active health checking: every <c>IntervalSeconds</c>, <c>GET {BaseAddress}/health</c> on each
/// instance in parallel, each bounded by <c>TimeoutSeconds</c>. vLLM answers 200 while the engine
/// lives and 503 once it died; its port opens only after the model loaded, so a refused connection
/// means "still starting". <c>UnhealthyThreshold</c> failures in a row mark an instance unhealthy
/// (an instance that has never passed, on its first failure); one success marks it healthy.
/// Instances added while the proxy runs are probed at once rather than at the next round.
/// Probes use a dedicated handler: no service-discovery or resilience handlers (their retries and
/// timeouts would blur the signal), no connection reuse across a dead engine's restarts beyond a minute.
/// </summary>
internal sealed partial class ActiveHealthChecker : BackgroundService
{
    private readonly InstanceRegistry _registry;
    private readonly IRoutingObserver? _observer;
    private readonly Channel<bool> _registryChanged = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly ActiveHealthCheckOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ActiveHealthChecker> _logger;
    private readonly ConditionalWeakTable<UpstreamInstance, ProbeState> _states = [];
    private readonly HttpMessageInvoker _client;

    public ActiveHealthChecker(
        InstanceRegistry registry,
        IOptions<ActiveHealthCheckOptions> options,
        TimeProvider time,
        ILogger<ActiveHealthChecker> logger,
        IRoutingObserver? observer = null)
    {
        _registry = registry;
        _observer = observer;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _client = new HttpMessageInvoker(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(_options.TimeoutSeconds),
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
        });
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            return;
        }

        _registry.Changed += OnRegistryChanged;
        try
        {
            await Task.WhenAll(RunRoundsAsync(stoppingToken), ProbeNewInstancesAsync(stoppingToken));
        }
        finally
        {
            _registry.Changed -= OnRegistryChanged;
        }
    }

    private void OnRegistryChanged() => _registryChanged.Writer.TryWrite(true);

    private async Task RunRoundsAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.IntervalSeconds), _time);
        do
        {
            await ProbeAllAsync(stoppingToken);
        }
        while (await WaitForNextTickAsync(timer, stoppingToken));
    }

    private async Task ProbeNewInstancesAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var signal in _registryChanged.Reader.ReadAllAsync(stoppingToken))
            {
                await Task.WhenAll(_registry.Instances
                    .Where(instance => !_states.TryGetValue(instance, out _))
                    .Select(instance => ProbeAsync(instance, stoppingToken)));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    public override void Dispose()
    {
        _client.Dispose();
        base.Dispose();
    }

    /// <summary>One round: probes every registered instance.</summary>
    internal Task ProbeAllAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(_registry.Instances.Select(instance => ProbeAsync(instance, cancellationToken)));

    private static async Task<bool> WaitForNextTickAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private async Task ProbeAsync(UpstreamInstance instance, CancellationToken cancellationToken)
    {
        // Registered before the probe is sent, so the new-instance loop does not probe it twice.
        var state = _states.GetValue(instance, static _ => new ProbeState());
        var (passed, detail) = await SendProbeAsync(instance, cancellationToken);
        if (cancellationToken.IsCancellationRequested)
        {
            return;
        }

        lock (state)
        {
            if (passed)
            {
                state.EverPassed = true;
                state.ConsecutiveFailures = 0;
                instance.IsVerified = true;
                if (!instance.IsHealthy)
                {
                    instance.IsHealthy = true;
                    LogHealthy(instance.Name, instance.BaseAddress);
                }

                return;
            }

            state.ConsecutiveFailures++;
            if (instance.IsHealthy && (!state.EverPassed || state.ConsecutiveFailures >= _options.UnhealthyThreshold))
            {
                instance.IsHealthy = false;
                instance.SignalOutage();
                _observer?.InstanceTurnedUnhealthy(instance);
                LogUnhealthy(instance.Name, instance.BaseAddress, state.ConsecutiveFailures, detail);
            }
        }
    }

    private async Task<(bool Passed, string Detail)> SendProbeAsync(UpstreamInstance instance, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(_options.TimeoutSeconds));
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(instance.BaseAddress, _options.Path.TrimStart('/')));
            using var response = await _client.SendAsync(request, timeout.Token);
            return response.IsSuccessStatusCode
                ? (true, string.Empty)
                : (false, $"HTTP {(int)response.StatusCode}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (false, $"no answer within {_options.TimeoutSeconds} s");
        }
        catch (HttpRequestException ex)
        {
            return (false, ex.HttpRequestError.ToString());
        }
        catch (OperationCanceledException)
        {
            return (false, "stopping");
        }
        catch (Exception ex)
        {
            // Anything else (a malformed address, a TLS failure) is the instance's failure, not the checker's.
            return (false, $"{ex.GetType().Name}: {ex.Message}");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Instance {Name} at {BaseAddress} is unhealthy after {Failures} failed probe(s): {Detail}")]
    private partial void LogUnhealthy(string name, Uri baseAddress, int failures, string detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "Instance {Name} at {BaseAddress} is healthy again")]
    private partial void LogHealthy(string name, Uri baseAddress);

    private sealed class ProbeState
    {
        public int ConsecutiveFailures;
        public bool EverPassed;
    }
}
