using System.Collections.Concurrent;
using System.Net.Http.Headers;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PdApp.Protocol;

namespace PdApp.Hosting.Dashboard;

/// <summary>
/// Polls the proxy's admin API (<c>GET /admin/instances</c>) every few seconds and shows each
/// engine's routing state as its dashboard state: <c>Draining</c> or <c>Ejected: &lt;reason&gt;</c>
/// (warning style) while the proxy keeps requests away from it, Aspire's <c>Running</c> again once
/// it routes there. Only a <c>Running</c> engine is overridden, and only a state set here is
/// restored, so Aspire's own states (starting, exited, ...) always win. <see cref="Refresh"/>
/// polls at once (after a drain or undrain command).
/// </summary>
internal sealed class InstanceRoutingStateMonitor(
    IServiceProvider services,
    ProjectResource proxy,
    ParameterResource adminKey,
    string endpointName,
    IReadOnlyList<IResource> instances)
    : BackgroundService
{
    /// <summary>How often the proxy is asked.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(3);

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(2);
    private readonly SemaphoreSlim _refresh = new(0, 1);
    private readonly ConcurrentDictionary<string, string?> _shown = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = [.. instances.Select(instance => instance.Name)];

    /// <summary>Polls now instead of at the next interval.</summary>
    public void Refresh()
    {
        try
        {
            _refresh.Release();
        }
        catch (SemaphoreFullException)
        {
            // A refresh is already pending.
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var notifications = services.GetRequiredService<ResourceNotificationService>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger<InstanceRoutingStateMonitor>();
        var client = services.GetRequiredService<IHttpClientFactory>().CreateClient(PdDashboardCommands.HttpClientName);
        var watching = WatchAsync(notifications, stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _refresh.WaitAsync(Interval, stoppingToken).ConfigureAwait(false);
                if (await FetchAsync(client, stoppingToken).ConfigureAwait(false) is { } json)
                {
                    await ApplyAsync(notifications, InstanceRoutingStates.FromAdminList(json, DateTimeOffset.UtcNow)).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or System.Text.Json.JsonException)
            {
                // The proxy is starting, restarting or stopped: its states stay as they were until it answers.
                logger.LogDebug("Instance routing states not refreshed: {Error}", ex.Message);
            }
        }

        await watching.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _refresh.Dispose();
        base.Dispose();
    }

    private async Task<string?> FetchAsync(HttpClient client, CancellationToken cancellationToken)
    {
        var endpoint = proxy.GetEndpoint(endpointName);
        if (!endpoint.IsAllocated)
        {
            return null;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        var key = await adminKey.GetValueAsync(timeout.Token).ConfigureAwait(false);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(new Uri(endpoint.Url), PdAdminRoutes.Instances));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await client.SendAsync(request, timeout.Token).ConfigureAwait(false);
        return response.IsSuccessStatusCode
            ? await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false)
            : null;
    }

    private async Task ApplyAsync(ResourceNotificationService notifications, IReadOnlyDictionary<string, string?> states)
    {
        foreach (var instance in instances)
        {
            var wanted = states.GetValueOrDefault(instance.Name);
            var shown = _shown.GetValueOrDefault(instance.Name);
            var change = wanted is not null
                ? shown != wanted && Overridable(shown)
                : InstanceRoutingStates.IsCustom(shown);
            if (change)
            {
                // Checked again inside the update: Aspire may have moved the resource on meanwhile.
                await notifications.PublishUpdateAsync(instance, snapshot =>
                    wanted is not null && Overridable(snapshot.State?.Text)
                        ? snapshot with { State = new ResourceStateSnapshot(wanted, InstanceRoutingStates.Style) }
                        : wanted is null && InstanceRoutingStates.IsCustom(snapshot.State?.Text)
                            ? snapshot with { State = KnownResourceStates.Running }
                            : snapshot).ConfigureAwait(false);
            }
        }
    }

    // The state each engine shows now, whoever set it (Aspire or this monitor).
    private async Task WatchAsync(ResourceNotificationService notifications, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var update in notifications.WatchAsync(cancellationToken).ConfigureAwait(false))
            {
                if (_names.Contains(update.Resource.Name))
                {
                    _shown[update.Resource.Name] = update.Snapshot.State?.Text;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private static bool Overridable(string? shown) =>
        shown == KnownResourceStates.Running || InstanceRoutingStates.IsCustom(shown);
}
