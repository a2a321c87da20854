using System.Diagnostics;
using System.Text.Json;
using PdApp.Proxy.Observability.Tracing;
using PdApp.Proxy.Pipeline.Forwarding;
using PdApp.Proxy.Routing;

namespace PdApp.Proxy.Observability.Requests;

/// <summary>
/// <c>pd.prefill</c> (client kind): one prefill call (<c>max_tokens</c> = 1) on a prefill instance.
/// The HTTP call inside it carries this span's context to P as <c>traceparent</c>.
/// </summary>
internal sealed class PrefillSpan : IDisposable
{
    private readonly RequestObserver _request;
    private readonly Activity? _activity;
    private readonly long _started = Stopwatch.GetTimestamp();
    private bool _completed;

    internal PrefillSpan(RequestObserver request, UpstreamInstance instance, string upstreamRequestId)
    {
        _request = request;
        _activity = request.Owner.Tracing.Source.StartActivity(ProxyTracing.PrefillSpan, ActivityKind.Client);
        if (_activity is not null)
        {
            request.TagCommon(_activity, instance, "prefill", upstreamRequestId);
            _activity.SetTag(PdSpanAttributes.GenAiRequestMaxTokens, 1);
        }
    }

    /// <summary>The prefill call returned.</summary>
    /// <param name="attempt">Its outcome.</param>
    public void Complete(PrefillAttempt attempt)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        _completed = true;
        var outcome = OutcomeOf(attempt.Kind);
        var elapsed = Stopwatch.GetElapsedTime(_started);
        _request.PrefillMilliseconds = elapsed.TotalMilliseconds;
        // P's prompt token count only tags spans: no JSON parse when nobody records them.
        var promptTokens = attempt.Kind == PrefillAttemptKind.Succeeded && (_activity is not null || _request.ServerActivity is not null)
            ? ReadPromptTokens(attempt.Body)
            : null;
        if (promptTokens is not null)
        {
            _request.PromptTokens = promptTokens;
        }

        if (_activity is null)
        {
            return;
        }

        _activity.SetTag(PdSpanAttributes.Outcome, outcome);
        if (attempt.StatusCode > 0)
        {
            _activity.SetTag(PdSpanAttributes.HttpResponseStatusCode, attempt.StatusCode);
        }

        _activity.SetTag(PdSpanAttributes.GenAiUsageInputTokens, promptTokens);
        if (attempt.Kind is not (PrefillAttemptKind.Succeeded or PrefillAttemptKind.Canceled))
        {
            _activity.SetTag(PdSpanAttributes.ErrorType, outcome);
            _activity.SetStatus(ActivityStatusCode.Error, attempt.Detail);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!_completed)
        {
            // The call threw instead of returning an attempt.
            _activity?.SetTag(PdSpanAttributes.Outcome, "exception");
            _activity?.SetStatus(ActivityStatusCode.Error);
        }

        _activity?.Dispose();
    }

    internal static string OutcomeOf(PrefillAttemptKind kind) => kind switch
    {
        PrefillAttemptKind.Succeeded => "succeeded",
        PrefillAttemptKind.Rejected => "rejected",
        PrefillAttemptKind.UpstreamError => "upstream_error",
        PrefillAttemptKind.TimedOut => "timed_out",
        PrefillAttemptKind.TransportError => "transport_error",
        PrefillAttemptKind.Canceled => "canceled",
        _ => kind.ToString().ToLowerInvariant(),
    };

    /// <summary>Reads <c>usage.prompt_tokens</c> from P's (small, bounded) JSON answer.</summary>
    /// <param name="body">P's response body.</param>
    /// <returns>The count, or null.</returns>
    internal static int? ReadPromptTokens(ReadOnlyMemory<byte> body)
    {
        if (body.IsEmpty)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("usage", out var usage)
                && usage.ValueKind == JsonValueKind.Object
                && usage.TryGetProperty("prompt_tokens", out var tokens)
                && tokens.TryGetInt32(out var count)
                ? count
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
