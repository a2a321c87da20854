using PdApp.Proxy.Pipeline.Requests;

namespace PdApp.Proxy.Pipeline;

/// <summary>Starts the <see cref="IRequestObserver"/> of each client request.</summary>
public interface IProxyObserver
{
    /// <summary>Starts observing one client request.</summary>
    /// <param name="context">The client's request (its server span carries the outcome).</param>
    /// <param name="route">The route it arrived on.</param>
    /// <param name="requestId">The client-facing request id.</param>
    /// <returns>The request's observer.</returns>
    IRequestObserver StartRequest(HttpContext context, OpenAiRoute route, string requestId);
}
