using Aspire.Hosting.ApplicationModel;
using PdApp.Hosting;
using PdApp.Hosting.Dashboard;
using PdApp.Protocol.Vllm;

namespace Aspire.Hosting;

/// <summary>Sends a vLLM container's request traces to the Aspire dashboard.</summary>
public static class VllmOtlpExtensions
{
    /// <summary>The environment variable vLLM reads for the trace exporter's protocol (vllm/tracing.py).</summary>
    public const string TracesProtocolVariable = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL";

    /// <summary>
    /// Points vLLM's <c>--otlp-traces-endpoint</c> at the dashboard's OTLP endpoint, so each request's
    /// <c>llm_request</c> span (queue time, TTFT, prefill and decode time, token counts; see
    /// vllm/tracing.py <c>SpanAttributes</c>) joins the proxy's trace through the <c>traceparent</c> the
    /// proxy sends. The endpoint is resolved as Aspire's <c>WithOtlpExporter</c> resolves it (gRPC when the
    /// dashboard has a gRPC endpoint, else OTLP/HTTP) and rewritten for the container network
    /// (<see cref="HostUrl"/>: <c>localhost</c> becomes the container host). <c>WithOtlpExporter</c> also sets
    /// <c>OTEL_SERVICE_NAME</c> (the resource name), the dashboard's API key header and the batch delays;
    /// vLLM's exporter reads them from the environment. Nothing is added when publishing: a deployment
    /// has its own collector.
    /// </summary>
    /// <remarks>
    /// vLLM imports <c>opentelemetry-sdk</c>, <c>opentelemetry-api</c>,
    /// <c>opentelemetry-exporter-otlp</c> and <c>opentelemetry-semantic-conventions-ai</c> only when the
    /// flag is given, and images built before they joined vLLM's default requirements (vllm-project/vllm#34466,
    /// February 2026) do not ship them: without them the server exits at start. Use an image that adds them
    /// (<c>pip install opentelemetry-sdk opentelemetry-api opentelemetry-exporter-otlp opentelemetry-semantic-conventions-ai</c>).
    /// </remarks>
    /// <param name="builder">The vLLM resource.</param>
    /// <param name="protocol">Force gRPC or OTLP/HTTP (protobuf); null picks as described.</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<VllmResource> WithOtlpTracesEndpoint(this IResourceBuilder<VllmResource> builder, OtlpProtocol? protocol = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (protocol is OtlpProtocol.HttpJson)
        {
            throw new ArgumentOutOfRangeException(nameof(protocol), protocol, "vLLM exports traces with gRPC or http/protobuf only.");
        }

        var configuration = builder.ApplicationBuilder.Configuration;
        var chosen = protocol ?? (DashboardOtlpEndpoint.From(configuration).PrefersGrpc ? OtlpProtocol.Grpc : OtlpProtocol.HttpProtobuf);
        return builder
            .WithOtlpExporter(chosen)
            .WithEnvironment(context =>
            {
                if (!context.ExecutionContext.IsPublishMode)
                {
                    context.EnvironmentVariables[TracesProtocolVariable] = chosen == OtlpProtocol.Grpc ? "grpc" : "http/protobuf";
                }
            })
            .WithArgs(context =>
            {
                if (context.ExecutionContext.IsPublishMode)
                {
                    return;
                }

                var url = DashboardOtlpEndpoint.From(configuration).UrlFor(chosen == OtlpProtocol.Grpc);

                // An endpoint given to the Python OTLP/HTTP exporter is used as is: it needs the signal path.
                var endpoint = chosen == OtlpProtocol.Grpc ? url : url.TrimEnd('/') + "/v1/traces";
                context.Args.Add(VllmEngineArguments.OtlpTracesEndpoint.Name);
                context.Args.Add(new HostUrl(endpoint));
            });
    }
}
