using PdApp.Tests.Proxy.Routing;

namespace PdApp.Tests.Simulator;

public sealed class SimulatorMetricsTests
{
    [Fact]
    public async Task Metrics_ExposeVllmNames_AndCountersMove()
    {
        await using var sim = await RunningSimulator.StartAsync(["--time-to-first-token", "1", "--inter-token-latency", "1", "--kv-cache-size", "100", "--block-size", "16"]);
        var before = await sim.Client.MetricsAsync();

        var (_, body) = await sim.Client.PostJsonAsync("/v1/completions", SimulatorHttp.Completion("Hello world", maxTokens: 4));
        var after = await sim.Client.MetricsAsync();

        string[] names =
        [
            "vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc", "vllm:prompt_tokens_total",
            "vllm:generation_tokens_total", "vllm:request_success_total", "vllm:time_to_first_token_seconds_bucket",
            "vllm:time_per_output_token_seconds_bucket", "vllm:e2e_request_latency_seconds_bucket", "vllm:request_queue_time_seconds_bucket",
            "vllm:request_prefill_time_seconds_bucket", "vllm:request_decode_time_seconds_bucket",
            "pdsim:kv_transfer_hits_total", "pdsim:kv_transfer_misses_total", "pdsim:kv_transfers_produced_total",
        ];
        Assert.All(names, name => Assert.Contains(name, after));
        Assert.Equal(0, SimulatorHttp.Metric(before, "vllm:prompt_tokens_total"));
        Assert.Equal(2, SimulatorHttp.Metric(after, "vllm:prompt_tokens_total{model_name=\"dp7b\"}"));
        Assert.Equal(4, SimulatorHttp.Metric(after, "vllm:generation_tokens_total{model_name=\"dp7b\"}"));
        Assert.Equal(1, SimulatorHttp.Metric(after, "vllm:request_success_total{model_name=\"dp7b\",finished_reason=\"length\"}"));
        Assert.Equal(1, SimulatorHttp.Metric(after, "vllm:e2e_request_latency_seconds_count{model_name=\"dp7b\"}"));
        Assert.Equal(1, SimulatorHttp.Metric(after, "vllm:time_to_first_token_seconds_bucket{model_name=\"dp7b\",le=\"+Inf\"}"));
        Assert.Equal(0, SimulatorHttp.Metric(after, "vllm:kv_cache_usage_perc"));
        Assert.NotNull(body["usage"]);
    }

    [Fact]
    public async Task OpenTelemetryMeter_ReportsTheSameCountsAsPrometheus()
    {
        await using var sim = await RunningSimulator.StartAsync(["--time-to-first-token", "1", "--inter-token-latency", "1"]);
        await sim.Client.PostJsonAsync("/v1/completions", SimulatorHttp.Completion("Hello world", maxTokens: 3));
        var meter = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions
            .GetRequiredService<PdApp.Simulator.Metrics.SimulatorMeter>(sim.App.Services).Meter;
        var observed = new Dictionary<string, double>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => observed[instrument.Name] = value);
        listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => observed[instrument.Name] = value);
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => observed[instrument.Name] = value);
        listener.Start();

        listener.RecordObservableInstruments();

        Assert.Equal(2, observed["pdsim.tokens.prompt"]);
        Assert.Equal(3, observed["pdsim.tokens.generated"]);
        Assert.Equal(0, observed["pdsim.requests.running"]);
        Assert.Equal(0, observed["pdsim.kv_cache.usage"]);
    }

    [Fact]
    public async Task KvCacheUsage_GrowsWhileASequenceRuns()
    {
        await using var sim = await RunningSimulator.StartAsync(["--time-to-first-token", "1", "--inter-token-latency", "30", "--kv-cache-size", "10", "--block-size", "16"]);

        var request = sim.Client.PostJsonAsync("/v1/completions", SimulatorHttp.Completion(string.Join(' ', Enumerable.Repeat("word", 40)), maxTokens: 10));
        var during = new List<double>();
        var sawUsage = await Eventually.TrueAsync(async () =>
        {
            var usage = SimulatorHttp.Metric(await sim.Client.MetricsAsync(), "vllm:kv_cache_usage_perc");
            during.Add(usage);
            return usage > 0;
        });
        await request;
        var after = SimulatorHttp.Metric(await sim.Client.MetricsAsync(), "vllm:kv_cache_usage_perc");

        // 40 prompt tokens and a few output tokens: 3 of 10 blocks of 16 tokens.
        Assert.True(sawUsage, "KV cache usage never rose while the sequence ran");
        Assert.Equal(0.3, during[^1], precision: 5);
        Assert.Equal(0, after);
    }
}
