using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdApp.Protocol;
using PdApp.Proxy.Routing.Options;

namespace PdApp.Proxy.Routing.Discovery;

/// <summary>
/// Instances from DNS: each configured role's headless service name (<c>Pd:Discovery:Dns:Prefill</c>,
/// <c>:Decode</c>, <c>:Both</c>) resolves to one A/AAAA record per ready pod; every record becomes
/// an instance named <c>{role}-d{n}</c> (<see cref="InstanceNumbering"/>, a number per address), on the role's port (<c>PrefillPort</c>, <c>DecodePort</c>,
/// <c>BothPort</c>, else <c>Port</c>: in a Kubernetes deployment every pod of a role listens on the role's
/// port, so scaling a role changes only the records). Re-resolved every <c>IntervalSeconds</c>: pods
/// that appear are added, pods that vanish are removed (requests already running on them finish).
/// A failed lookup (other than "name does not exist") keeps the previous set, so a DNS hiccup
/// does not empty the pool. With active health checking on, a new pod starts unhealthy and is
/// admitted by its first passing probe.
/// </summary>
internal sealed partial class DnsInstanceSource : BackgroundService
{
    private readonly InstanceRegistry _registry;
    private readonly IHostAddressResolver _resolver;
    private readonly DnsDiscoveryOptions _options;
    private readonly bool _probeBeforeUse;
    private readonly TimeProvider _time;
    private readonly ILogger<DnsInstanceSource> _logger;
    private readonly InstanceNumbering _names = new("d");

    public DnsInstanceSource(
        InstanceRegistry registry,
        IHostAddressResolver resolver,
        IOptions<DnsDiscoveryOptions> options,
        IOptions<ActiveHealthCheckOptions> health,
        TimeProvider time,
        ILogger<DnsInstanceSource> logger)
    {
        _registry = registry;
        _resolver = resolver;
        _options = options.Value;
        _probeBeforeUse = health.Value.Enabled;
        _time = time;
        _logger = logger;
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.IsEnabled)
        {
            await RefreshAsync(cancellationToken);
        }

        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.IsEnabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.IntervalSeconds), _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await RefreshAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>Resolves every configured role once and publishes the result.</summary>
    internal async Task RefreshAsync(CancellationToken cancellationToken)
    {
        foreach (var (role, host) in new[] { (PdRole.Prefill, _options.Prefill), (PdRole.Decode, _options.Decode), (PdRole.Both, _options.Both) })
        {
            if (!string.IsNullOrWhiteSpace(host))
            {
                await RefreshRoleAsync(role, host, cancellationToken);
            }
        }
    }

    private async Task RefreshRoleAsync(PdRole role, string host, CancellationToken cancellationToken)
    {
        IPAddress[] addresses;
        try
        {
            addresses = await _resolver.ResolveAsync(host, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogResolveFailed(ex, role, host);
            return;
        }

        var desired = addresses
            .Select(a => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a)
            .Distinct()
            .Select(a => CreateInstance(role, a))
            .ToList();
        if (desired.Count == 0)
        {
            LogNoRecords(role, host);
        }

        _registry.Synchronize(i => i.Source == InstanceSource.Dns && i.Role == role, desired);
    }

    private UpstreamInstance CreateInstance(PdRole role, IPAddress address)
    {
        var port = _options.PortFor(role);
        var endpoint = new IPEndPoint(address, port);
        var baseAddress = new UriBuilder(_options.Scheme, address.ToString(), port).Uri;
        // A pod can be in DNS before it serves (publishNotReadyAddresses, a restart): with active
        // health checking on, it gets traffic only after its first passing probe.
        // Named without the pod's address: names reach clients in error messages.
        return new UpstreamInstance(_names.NameFor(role, endpoint.ToString()), role, baseAddress, InstanceSource.Dns)
        {
            IsHealthy = !_probeBeforeUse,
        };
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "DNS discovery of {Role} instances: resolving {Host} failed; keeping the previous instances")]
    private partial void LogResolveFailed(Exception exception, PdRole role, string host);

    [LoggerMessage(Level = LogLevel.Debug, Message = "DNS discovery of {Role} instances: {Host} has no address records")]
    private partial void LogNoRecords(PdRole role, string host);
}
