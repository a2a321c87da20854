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

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!request.Options.TryGetValue(WatchdogKey, out var watchdog))
        {
            return await base.SendAsync(request, cancellationToken);
        }

        using var headers = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, watchdog.ArmForHeaders());
        try
        {
            return await base.SendAsync(request, headers.Token);
        }
        finally
        {
            watchdog.Disarm();
        }
    }
}
