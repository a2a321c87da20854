using System.Diagnostics;
using PdApp.Proxy.Observability.Tracing;
using PdApp.Proxy.Pipeline.Admission;

namespace PdApp.Proxy.Observability.Requests;

/// <summary>
/// <c>pd.admission</c>: the time a request waits for the rate limiter and the concurrency queue.
/// Counts into the queue depth while open; disposing without <see cref="Stop"/> means the client
/// left while queued.
/// </summary>
internal sealed class AdmissionSpan : IDisposable
{
    private readonly RequestObserver _request;
    private readonly Activity? _activity;
    private readonly long _started = Stopwatch.GetTimestamp();
    private bool _stopped;

    internal AdmissionSpan(RequestObserver request)
    {
        _request = request;
        _activity = request.Owner.Tracing.Source.StartActivity(ProxyTracing.AdmissionSpan, ActivityKind.Internal);
        _activity?.SetTag(PdSpanAttributes.RequestId, request.RequestId);
        request.Owner.Meter.QueueEntered();
    }

    /// <summary>Admission answered.</summary>
    /// <param name="result">The answer.</param>
    public void Stop(AdmissionResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        End(result.IsAdmitted ? "admitted" : result.Reason);
    }

    /// <inheritdoc />
    public void Dispose() => End("canceled");

    private void End(string outcome)
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        var elapsed = Stopwatch.GetElapsedTime(_started);
        _request.AdmissionMilliseconds = elapsed.TotalMilliseconds;
        _request.Owner.Meter.QueueLeft(elapsed.TotalSeconds, outcome);
        if (_activity is not null)
        {
            _activity.SetTag(PdSpanAttributes.Outcome, outcome);
            if (outcome is not ("admitted" or "canceled"))
            {
                _activity.SetStatus(ActivityStatusCode.Error, outcome);
                _activity.SetTag(PdSpanAttributes.ErrorType, outcome);
            }

            _activity.Dispose();
        }
    }
}
