using PdApp.Proxy.Pipeline.Admission;
using PdApp.Proxy.Pipeline.Forwarding;
using PdApp.Proxy.Pipeline.Requests;
using PdApp.Proxy.Routing;
using Yarp.ReverseProxy.Forwarder;

namespace PdApp.Proxy.Pipeline;

/// <summary>Observes nothing: the observer while observability is not registered.</summary>
public sealed class NullRequestObserver : IRequestObserver, IProxyObserver
{
    /// <summary>The instance.</summary>
    public static NullRequestObserver Instance { get; } = new();

    /// <inheritdoc />
    public IRequestObserver StartRequest(HttpContext context, OpenAiRoute route, string requestId) => this;

    /// <inheritdoc />
    public void AdmissionStarted()
    {
    }

    /// <inheritdoc />
    public void AdmissionEnded(AdmissionResult result)
    {
    }

    /// <inheritdoc />
    public void RequestParsed(CompletionRequest request)
    {
    }

    /// <inheritdoc />
    public void PrefillSkipped()
    {
    }

    /// <inheritdoc />
    public void PrefillStarted(UpstreamInstance instance, string upstreamRequestId)
    {
    }

    /// <inheritdoc />
    public void PrefillEnded(PrefillAttempt attempt)
    {
    }

    /// <inheritdoc />
    public void PrefillRetried(PrefillAttemptKind previous)
    {
    }

    /// <inheritdoc />
    public void DecodeOnlyFallback(string reason)
    {
    }

    /// <inheritdoc />
    public void KvTransferExpected()
    {
    }

    /// <inheritdoc />
    public void DecodeStarted(DecodeCall call)
    {
    }

    /// <inheritdoc />
    public void DecodeResponded(HttpResponseMessage response)
    {
    }

    /// <inheritdoc />
    public void DecodeEnded(ForwarderError error, bool clientAborted)
    {
    }

    /// <inheritdoc />
    public void DecodeRetried()
    {
    }

    /// <inheritdoc />
    public void DecodeMigration(string outcome, string reason, int tokensRelayed)
    {
    }

    /// <inheritdoc />
    public void KvTransferObserved(bool found)
    {
    }

    /// <inheritdoc />
    public void CancelledAfterPrefill()
    {
    }

    /// <inheritdoc />
    public void RequestCompleted(int statusCode, PdExchange exchange)
    {
    }
}
