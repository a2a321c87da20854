using PdApp.Proxy.Pipeline;
using PdApp.Proxy.Pipeline.Admission;
using PdApp.Proxy.Pipeline.Forwarding;
using PdApp.Proxy.Pipeline.Requests;
using PdApp.Proxy.Routing;
using Yarp.ReverseProxy.Forwarder;

namespace PdApp.Tests.Proxy.Pipeline;

/// <summary>Records the events the pipeline reports, one name per call.</summary>
internal class RecordingObserver : IRequestObserver
{
    public List<string> Events { get; } = [];

    public void AdmissionStarted() => Events.Add(nameof(AdmissionStarted));

    public void AdmissionEnded(AdmissionResult result) => Events.Add(nameof(AdmissionEnded));

    public void RequestParsed(CompletionRequest request) => Events.Add(nameof(RequestParsed));

    public void PrefillSkipped() => Events.Add(nameof(PrefillSkipped));

    public void PrefillStarted(UpstreamInstance instance, string upstreamRequestId) => Events.Add($"{nameof(PrefillStarted)} {instance.Name}");

    public void PrefillEnded(PrefillAttempt attempt) => Events.Add($"{nameof(PrefillEnded)} {attempt.Kind}");

    public void PrefillRetried(PrefillAttemptKind previous) => Events.Add($"{nameof(PrefillRetried)} {previous}");

    public void DecodeOnlyFallback(string reason) => Events.Add($"{nameof(DecodeOnlyFallback)} {reason}");

    public void KvTransferExpected() => Events.Add(nameof(KvTransferExpected));

    public void DecodeStarted(DecodeCall call) => Events.Add($"{nameof(DecodeStarted)} {call.Instance.Name}");

    public void DecodeResponded(HttpResponseMessage response) => Events.Add($"{nameof(DecodeResponded)} {(int)response.StatusCode}");

    public void DecodeEnded(ForwarderError error, bool clientAborted) => Events.Add($"{nameof(DecodeEnded)} {error}");

    public void DecodeRetried() => Events.Add(nameof(DecodeRetried));

    public void DecodeMigration(string outcome, string reason, int tokensRelayed) => Events.Add($"{nameof(DecodeMigration)} {outcome} {reason}");

    public void KvTransferObserved(bool found) => Events.Add($"{nameof(KvTransferObserved)} {found}");

    public void CancelledAfterPrefill() => Events.Add(nameof(CancelledAfterPrefill));

    public void RequestCompleted(int statusCode, PdExchange exchange) => Events.Add($"{nameof(RequestCompleted)} {statusCode}");
}
