using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using PdApp.Protocol;
using PdApp.Proxy.Observability.Metrics;
using PdApp.Proxy.Observability.Tracing;
using PdApp.Proxy.Routing.Load;
using PdApp.Tests.Observability.Infrastructure;
using PdApp.Tests.Proxy.Infrastructure;
using PdApp.Tests.Proxy.Routing;

namespace PdApp.Tests.Observability;

/// <summary>One request through the proxy: its spans, across proxy and simulators, and its timing metrics.</summary>
public sealed class ProxyTelemetryTests
{
    private static async Task<ProxyFixture> StartAsync(params string[] decodeArgs)
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        var decode = await SimulatorInstance.StartAsync("decode-0", decodeArgs);
        return await ProxyFixture.StartAsync(KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(decode)]);
    }

    [Fact]
    public async Task StreamingRequest_OneTraceWithPrefillAndDecodeSpansContinuedBySimulators()
    {
        using var collector = new ActivityCollector();
        await using var proxy = await StartAsync();

        using var response = await proxy.PostAsync(
            "/v1/completions", Bodies.Completion(maxTokens: 12, stream: true), completion: HttpCompletionOption.ResponseHeadersRead);
        var events = await SseEvents.ReadAllAsync(response);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var requestId = response.Headers.GetValues(PdHeaders.RequestId).Single();

        // The proxy's server span is the root of the request's trace.
        await collector.WaitUntilAsync(all => all.Any(a => a.Source.Name == "Microsoft.AspNetCore" && Equals(a.GetTagItem(PdSpanAttributes.RequestId), requestId)));
        var root = Assert.Single(collector.Where(a => a.Source.Name == "Microsoft.AspNetCore" && Equals(a.GetTagItem(PdSpanAttributes.RequestId), requestId)));
        await collector.WaitUntilAsync(all => all.Count(a => a.TraceId == root.TraceId && a.Source.Name == "Microsoft.AspNetCore") >= 3);
        var trace = collector.InTrace(root.TraceId);

        var admission = Assert.Single(trace, a => a.OperationName == ProxyTracing.AdmissionSpan);
        var prefill = Assert.Single(trace, a => a.OperationName == ProxyTracing.PrefillSpan);
        var decode = Assert.Single(trace, a => a.OperationName == ProxyTracing.DecodeSpan);
        Assert.All([admission, prefill, decode], span => Assert.Equal(root.SpanId, span.ParentSpanId));
        Assert.Equal(ActivityKind.Client, prefill.Kind);
        Assert.Equal("admitted", admission.GetTagItem(PdSpanAttributes.Outcome));

        Assert.Equal("prefill-0", prefill.GetTagItem(PdSpanAttributes.Instance));
        Assert.Equal("prefill", prefill.GetTagItem(PdSpanAttributes.Role));
        Assert.Equal(KvConnectorNames.SharedStorage, prefill.GetTagItem(PdSpanAttributes.Connector));
        Assert.Equal("text_completion", prefill.GetTagItem(PdSpanAttributes.GenAiOperationName));
        Assert.Equal("vllm", prefill.GetTagItem(PdSpanAttributes.GenAiSystem));
        Assert.Equal(ProxyFixture.Model, prefill.GetTagItem(PdSpanAttributes.GenAiRequestModel));
        Assert.Equal("succeeded", prefill.GetTagItem(PdSpanAttributes.Outcome));
        Assert.True(prefill.GetTagItem(PdSpanAttributes.GenAiUsageInputTokens) is int inputTokens && inputTokens > 0);
        Assert.Equal(requestId, prefill.GetTagItem(PdSpanAttributes.RequestId));

        Assert.Equal("decode-0", decode.GetTagItem(PdSpanAttributes.Instance));
        Assert.Equal("decode", decode.GetTagItem(PdSpanAttributes.Role));
        Assert.Equal("relayed", decode.GetTagItem(PdSpanAttributes.Outcome));
        var chunks = events.Count(e => e.Data != "[DONE]");
        Assert.Equal(chunks, decode.GetTagItem(PdSpanAttributes.GenAiUsageOutputTokens));
        Assert.True(prefill.StartTimeUtc + prefill.Duration <= decode.StartTimeUtc, "decode starts after prefill ends");

        // Each simulator's server span continues the trace under the proxy's HTTP client span of that step.
        foreach (var (step, path) in new[] { (prefill, "prefill"), (decode, "decode") })
        {
            var client = Assert.Single(trace, a => a.Source.Name == "System.Net.Http" && a.ParentSpanId == step.SpanId);
            var server = Assert.Single(trace, a => a.Source.Name == "Microsoft.AspNetCore" && a.ParentSpanId == client.SpanId);
            Assert.Equal(ActivityKind.Server, server.Kind);
            Assert.Equal(root.TraceId, server.TraceId);
            Assert.True(server.HasRemoteParent, $"the {path} simulator's span should come from traceparent");
        }

        Assert.Equal("pd", root.GetTagItem(PdSpanAttributes.Mode));
        Assert.Equal("prefill-0", root.GetTagItem(PdSpanAttributes.PrefillInstance));
        Assert.Equal("decode-0", root.GetTagItem(PdSpanAttributes.DecodeInstance));
        Assert.Equal(chunks, root.GetTagItem(PdSpanAttributes.GenAiUsageOutputTokens));
    }

    [Fact]
    public async Task StreamingRequestWithUsage_OutputTokensAreTheUsagesCompletionTokens_NotTheUsageChunkCountedAsAToken()
    {
        using var collector = new ActivityCollector();
        await using var proxy = await StartAsync();
        var body = $$$"""{"model": "{{{ProxyFixture.Model}}}", "prompt": "The capital of France is a city that", "max_tokens": 12, "stream": true, "stream_options": {"include_usage": true}}""";

        using var response = await proxy.PostAsync("/v1/completions", body, completion: HttpCompletionOption.ResponseHeadersRead);
        var events = await SseEvents.ReadAllAsync(response);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var requestId = response.Headers.GetValues(PdHeaders.RequestId).Single();
        var usage = System.Text.Json.Nodes.JsonNode.Parse(events[^2].Data)!;
        Assert.Empty(usage["choices"]!.AsArray());
        var completionTokens = usage["usage"]!["completion_tokens"]!.GetValue<int>();
        Assert.Equal(12, completionTokens);
        Assert.Equal(completionTokens + 1, events.Count(e => e.Data != "[DONE]"));

        await collector.WaitUntilAsync(all => all.Any(a => a.Source.Name == "Microsoft.AspNetCore" && Equals(a.GetTagItem(PdSpanAttributes.RequestId), requestId)));
        var root = Assert.Single(collector.Where(a => a.Source.Name == "Microsoft.AspNetCore" && Equals(a.GetTagItem(PdSpanAttributes.RequestId), requestId)));
        await collector.WaitUntilAsync(all => all.Any(a => a.TraceId == root.TraceId && a.OperationName == ProxyTracing.DecodeSpan));
        var decode = Assert.Single(collector.InTrace(root.TraceId), a => a.OperationName == ProxyTracing.DecodeSpan);
        Assert.Equal(completionTokens, root.GetTagItem(PdSpanAttributes.GenAiUsageOutputTokens));
        Assert.Equal(completionTokens, decode.GetTagItem(PdSpanAttributes.GenAiUsageOutputTokens));
    }

    [Fact]
    public async Task StreamingRequest_RecordsDocumentedTimingMetrics()
    {
        await using var proxy = await StartAsync("--inter-token-latency", "15");
        using var recorder = new InstrumentRecorder(proxy.Services.GetRequiredService<ProxyMeter>().Meter);

        using var response = await proxy.PostAsync(
            "/v1/chat/completions", Bodies.Chat(maxTokens: 10, stream: true), completion: HttpCompletionOption.ResponseHeadersRead);
        var events = await SseEvents.ReadAllAsync(response);
        var chunks = events.Count(e => e.Data != "[DONE]");

        var ttft = Assert.Single(await recorder.WaitForAsync("pdapp.proxy.time_to_first_token", m => m.Count > 0));
        Assert.Equal("s", ttft.Unit);
        Assert.Equal("/v1/chat/completions", ttft.Tag("route"));
        Assert.Equal(KvConnectorNames.SharedStorage, ttft.Tag("connector"));
        Assert.Equal("pd", ttft.Tag("mode"));
        Assert.InRange(ttft.Value, 0.0001, 5);

        // One longest inter-chunk gap per stream, at least the mean gap (the simulator's 15 ms).
        Assert.Equal(chunks, recorder.Of("pdapp.proxy.stream.chunks").Sum(m => m.Value));
        var tpot = Assert.Single(await recorder.WaitForAsync("pdapp.proxy.time_per_output_token", m => m.Count > 0));
        Assert.InRange(tpot.Value, 0.005, 1);
        var longestGap = Assert.Single(recorder.Of("pdapp.proxy.inter_chunk_latency"));
        Assert.Equal(("/v1/chat/completions", KvConnectorNames.SharedStorage), (longestGap.Tag("route"), longestGap.Tag("connector")));
        Assert.InRange(longestGap.Value, tpot.Value * 0.999, 5);

        Assert.True(await proxy.Metrics.WaitForAsync("pdapp.proxy.prefill.duration", double.Epsilon, "outcome", "succeeded") > 0);
        var firstByte = Assert.Single(recorder.Of("pdapp.proxy.decode.time_to_first_byte"));
        Assert.Equal(("decode-0", "200"), (firstByte.Tag("instance"), firstByte.Tag("status")));
        var decode = Assert.Single(await recorder.WaitForAsync("pdapp.proxy.decode.duration", m => m.Count > 0));
        Assert.Equal("relayed", decode.Tag("outcome"));
        Assert.Equal("admitted", Assert.Single(recorder.Of("pdapp.proxy.admission.queue_time")).Tag("outcome"));
        Assert.Equal(0, recorder.Of("pdapp.proxy.admission.queue_depth").Sum(m => m.Value));
    }

    [Fact]
    public async Task RequestsBeyondConcurrency_WaitInAdmissionQueueAndShowInDepth()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        var decode = await SimulatorInstance.StartAsync("decode-0", ["--inter-token-latency", "20"]);
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(decode)], ["Pd:Proxy:Admission:MaxConcurrentRequests=1"]);
        using var recorder = new InstrumentRecorder(proxy.Services.GetRequiredService<ProxyMeter>().Meter);

        // The first holds the only slot for ~300 ms; the second queues behind it.
        var first = proxy.PostAsync("/v1/completions", Bodies.Completion(maxTokens: 15));
        await recorder.WaitForAsync("pdapp.proxy.admission.queue_time", m => m.Count > 0);
        var second = proxy.PostAsync("/v1/completions", Bodies.Completion(maxTokens: 2));
        var depth = await recorder.WaitForAsync("pdapp.proxy.admission.queue_depth", m => m.Sum(x => x.Value) == 1 && m.Count >= 3);
        Assert.Equal(1, depth.Sum(x => x.Value));
        using var firstResponse = await first;
        using var secondResponse = await second;

        Assert.Equal(HttpStatusCode.OK, secondResponse.StatusCode);
        var waits = await recorder.WaitForAsync("pdapp.proxy.admission.queue_time", m => m.Count == 2);
        Assert.True(waits.Max(w => w.Value) > 0.1, $"the queued request waited {waits.Max(w => w.Value)} s");
        Assert.Equal(0, recorder.Of("pdapp.proxy.admission.queue_depth").Sum(x => x.Value));
    }

    [Fact]
    public async Task PrometheusEndpoint_ExposesPdMetricsUnderDocumentedNames()
    {
        await using var proxy = await StartAsync();
        using var response = await proxy.PostAsync(
            "/v1/completions", Bodies.Completion(maxTokens: 6, stream: true), completion: HttpCompletionOption.ResponseHeadersRead);
        await SseEvents.ReadAllAsync(response);

        // OpenTelemetry's Prometheus naming: dots become underscores, "s" adds _seconds, counters end in _total.
        string[] expected =
        [
            "pdapp_proxy_time_to_first_token_seconds_bucket",
            "pdapp_proxy_inter_chunk_latency_seconds_count",
            "pdapp_proxy_time_per_output_token_seconds_sum",
            "pdapp_proxy_prefill_duration_seconds_count",
            "pdapp_proxy_decode_time_to_first_byte_seconds_count",
            "pdapp_proxy_admission_queue_time_seconds_count",
            "pdapp_proxy_requests_total",
            "pdapp_proxy_request_duration_seconds_bucket",
            "pdapp_instance_requests_outstanding",
            "pdapp_instance_available",
            "http_server_request_duration_seconds_count",
            "http_client_request_duration_seconds_count",
        ];
        IReadOnlyList<PrometheusSample> samples = [];
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (DateTime.UtcNow < deadline)
        {
            samples = PrometheusTextParser.Parse(await proxy.Client.GetStringAsync("/metrics")).Samples;
            if (expected.All(name => samples.Any(s => s.Name == name)))
            {
                break;
            }

            await Task.Delay(100);
        }

        Assert.All(expected, name => Assert.Contains(samples, s => s.Name == name));

        // Framework instruments updated per buffer or connection state change are not exported.
        Assert.DoesNotContain(samples, s => s.Name.StartsWith("aspnetcore_memory_pool", StringComparison.Ordinal));
        Assert.DoesNotContain(samples, s => s.Name.StartsWith("http_client_open_connections", StringComparison.Ordinal));
        Assert.DoesNotContain(samples, s => s.Name.StartsWith("http_client_request_time_in_queue", StringComparison.Ordinal));
        Assert.Contains(samples, s => s.Name == "pdapp_proxy_prefill_duration_seconds_count" && s.Label("outcome") == "succeeded" && s.Label("connector") == KvConnectorNames.SharedStorage);
        Assert.Contains(samples, s => s.Name == "pdapp_proxy_decode_time_to_first_byte_seconds_count" && s.Label("instance") == "decode-0");
        Assert.Contains(samples, s => s.Name == "pdapp_instance_requests_outstanding" && s.Label("instance") == "decode-0" && s.Label("role") == "decode");
        Assert.Contains(samples, s => s.Name == "pdapp_proxy_time_to_first_token_seconds_count" && s.Label("mode") == "pd" && s.Value == 1);

        // The end-to-end latency gets vLLM's buckets instead of OpenTelemetry's defaults.
        Assert.Contains(samples, s => s.Name == "pdapp_proxy_request_duration_seconds_bucket" && s.Label("le") == "0.3");
    }

    [Fact]
    public async Task PrometheusEndpoint_NegotiatesOpenMetrics_AsPrometheusAsksForIt()
    {
        await using var proxy = await StartAsync();
        using var completion = await proxy.PostAsync("/v1/completions", Bodies.Completion(maxTokens: 2));
        Assert.Equal(HttpStatusCode.OK, completion.StatusCode);

        // Prometheus' own Accept header: OpenMetrics first, the text format as a fallback. ASP.NET Core records a
        // request's duration once its response has finished, which can be after the client has read it: poll.
        string text = string.Empty;
        string? mediaType = null;
        IReadOnlyList<PrometheusSample> samples = [];
        Assert.True(await Eventually.TrueAsync(async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
            request.Headers.TryAddWithoutValidation("Accept",
                "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1");
            using var openMetrics = await proxy.Client.SendAsync(request);
            mediaType = openMetrics.Content.Headers.ContentType?.MediaType;
            text = await openMetrics.Content.ReadAsStringAsync();
            samples = PrometheusTextParser.Parse(text).Samples;
            // The proxy counts the request when its pipeline ends, which can also be after the client read it.
            return samples.Any(s => s.Name == "http_server_request_duration_seconds_count" && s.Label("http_route") == "/v1/completions")
                && samples.Any(s => s.Name == "pdapp_proxy_requests_total" && s.Label("route") == "/v1/completions");
        }), text);
        using var plain = await proxy.Client.GetAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Equal("application/openmetrics-text", mediaType);
        Assert.Equal("text/plain", plain.Content.Headers.ContentType?.MediaType);
        Assert.EndsWith("# EOF\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE pdapp_proxy_requests counter\n", text, StringComparison.Ordinal);
        Assert.Contains(samples, s => s.Name == "pdapp_proxy_requests_total" && s.Label("route") == "/v1/completions" && s.Label("status") == "200" && s.Value == 1);
        Assert.Contains(samples, s => s.Name == "http_server_request_duration_seconds_count" && s.Label("otel_scope_name") == "Microsoft.AspNetCore.Hosting");
        Assert.Contains(samples, s => s.Name == "pdapp_proxy_request_duration_seconds_bucket" && s.Label("le") == "0.3");
    }

    [Fact]
    public async Task PrometheusEndpoint_CountsThisProxysRequests_NotThoseOfAnotherProxyInTheProcess()
    {
        await using var busy = await StartAsync();
        await using var idle = await StartAsync();
        for (var i = 0; i < 3; i++)
        {
            using var completion = await busy.PostAsync("/v1/completions", Bodies.Completion(maxTokens: 2));
            Assert.Equal(HttpStatusCode.OK, completion.StatusCode);
        }

        // Both proxies create meters of the same names in one process; each exporter reports its own host's.
        Assert.True(await Eventually.TrueAsync(async () => Completions(await busy.Client.GetStringAsync("/metrics")) == 3));
        Assert.Equal(0, Completions(await idle.Client.GetStringAsync("/metrics")));

        static double Completions(string text) => PrometheusTextParser.Parse(text).Samples
            .Where(s => s.Name == "pdapp_proxy_requests_total" && s.Label("route") == "/v1/completions")
            .Sum(s => s.Value);
    }
}
