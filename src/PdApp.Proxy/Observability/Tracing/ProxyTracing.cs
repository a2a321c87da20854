using System.Diagnostics;

namespace PdApp.Proxy.Observability.Tracing;

/// <summary>
/// The proxy's <see cref="ActivitySource"/>, <c>PdApp.Proxy</c>: under each client request's
/// ASP.NET Core span it adds <c>pd.admission</c> (queueing), <c>pd.prefill</c> and <c>pd.decode</c>
/// (one per attempt). The HTTP client spans below prefill and decode carry <c>traceparent</c> to the
/// instances, so the simulator's and vLLM's own spans join the same trace.
/// </summary>
public sealed class ProxyTracing : IDisposable
{
    /// <summary>The activity source name (register it with the tracer provider).</summary>
    public const string SourceName = "PdApp.Proxy";

    /// <summary>The admission span's name.</summary>
    public const string AdmissionSpan = "pd.admission";

    /// <summary>The prefill span's name.</summary>
    public const string PrefillSpan = "pd.prefill";

    /// <summary>The decode span's name.</summary>
    public const string DecodeSpan = "pd.decode";

    /// <summary>The event on a failed <see cref="DecodeSpan"/> saying what request migration decided.</summary>
    public const string MigrationEvent = "pd.migration";

    /// <summary>The <c>gen_ai.system</c> / <c>gen_ai.provider.name</c> value.</summary>
    public const string GenAiSystemValue = "vllm";

    /// <summary>The source.</summary>
    public ActivitySource Source { get; } = new(SourceName, typeof(ProxyTracing).Assembly.GetName().Version?.ToString());

    /// <inheritdoc />
    public void Dispose() => Source.Dispose();
}
