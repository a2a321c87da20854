namespace PdApp.Proxy.Pipeline.Forwarding;

/// <summary>
/// The first handler of the upstream channel: when a request carries a <see cref="DecodeWatchdog"/>
/// (<see cref="WatchdogKey"/>), the wait for its response headers is bounded by the watchdog's
/// header deadline. The socket handler lets go of the token once the headers are read (HTTP/1.1),
/// so the body is left to the watchdog's idle deadline. Requests without a watchdog pass through.
/// </summary>
internal sealed class UpstreamDeadlineHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    /// <summary>The request option holding the decode relay's watchdog.</summary>
    public static readonly HttpRequestOptionsKey<DecodeWatchdog> WatchdogKey = new("PdApp.DecodeWatchdog");

    /// <summary>The instance's <see cref="Routing.UpstreamInstance.OutageToken"/>: followed until D's headers arrive.</summary>
    public static readonly HttpRequestOptionsKey<CancellationToken> OutageKey = new("PdApp.InstanceOutage");

    // Without a watchdog (prefill, /v1/models) the call passes straight through: no state machine of its own.
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        request.Options.TryGetValue(WatchdogKey, out var watchdog)
            ? SendWithDeadlineAsync(request, watchdog, cancellationToken)
            : base.SendAsync(request, cancellationToken);

    private async Task<HttpResponseMessage> SendWithDeadlineAsync(HttpRequestMessage request, DecodeWatchdog watchdog, CancellationToken cancellationToken)
    {
        var outage = request.Options.TryGetValue(OutageKey, out var token) ? token : CancellationToken.None;
        using var headers = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, watchdog.ArmForHeaders(), outage);
        try
        {
            return await base.SendAsync(request, headers.Token);
        }
        catch (OperationCanceledException) when (outage.IsCancellationRequested && !cancellationToken.IsCancellationRequested && watchdog.Fired == DecodeDeadline.None)
        {
            throw new InstanceOutageException();
        }
        finally
        {
            watchdog.Disarm();
        }
    }
}
