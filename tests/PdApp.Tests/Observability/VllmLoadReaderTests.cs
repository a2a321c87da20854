using PdApp.Proxy.Routing.Load;
using PdApp.Tests.Observability.TestData;

namespace PdApp.Tests.Observability;

public sealed class VllmLoadReaderTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 17, 0, 0, TimeSpan.Zero);

    [Fact]
    public void VllmPage_GivesRunningWaitingAndKvUsage()
    {
        var samples = PrometheusTextParser.Parse(VllmMetricsSamples.Vllm011).Samples;

        Assert.True(VllmLoadReader.TryRead(samples, Now, out var load));
        Assert.Equal(3, load!.Running);
        Assert.Equal(1, load.Waiting);
        Assert.Equal(0.41271551724137934, load.KvCacheUsage, 12);
        Assert.Equal(Now, load.ObservedAt);
    }

    [Fact]
    public void SeveralEngines_RequestsSummedAndFullestKvKept()
    {
        const string page = """
            vllm:num_requests_running{model_name="m",engine="0"} 2.0
            vllm:num_requests_running{model_name="m",engine="1"} 5.0
            vllm:num_requests_waiting{model_name="m",engine="0"} 1.0
            vllm:num_requests_waiting{model_name="m",engine="1"} 3.0
            vllm:kv_cache_usage_perc{model_name="m",engine="0"} 0.2
            vllm:kv_cache_usage_perc{model_name="m",engine="1"} 0.9
            """;

        Assert.True(VllmLoadReader.TryRead(PrometheusTextParser.Parse(page).Samples, Now, out var load));
        Assert.Equal(7, load!.Running);
        Assert.Equal(4, load.Waiting);
        Assert.Equal(0.9, load.KvCacheUsage);
    }

    [Fact]
    public void OldVllm_FallsBackToGpuCacheUsage()
    {
        const string page = """
            vllm:num_requests_running{model_name="m"} 1.0
            vllm:num_requests_waiting{model_name="m"} 0.0
            vllm:gpu_cache_usage_perc{model_name="m"} 0.35
            """;

        Assert.True(VllmLoadReader.TryRead(PrometheusTextParser.Parse(page).Samples, Now, out var load));
        Assert.Equal(0.35, load!.KvCacheUsage);
    }

    [Fact]
    public void PageWithoutVllmGauges_IsRejected()
    {
        var samples = PrometheusTextParser.Parse("process_max_fds 1024\nhttp_requests_total 3\n").Samples;

        Assert.False(VllmLoadReader.TryRead(samples, Now, out var load));
        Assert.Null(load);
    }

    public static TheoryData<string> Pages => new()
    {
        VllmMetricsSamples.Vllm011,
        "vllm:num_requests_running{model_name=\"m\",engine=\"0\"} 2.0\r\nvllm:num_requests_running{model_name=\"m\",engine=\"1\"} 5.0\r\nvllm:kv_cache_usage_perc{model_name=\"m\"} 0.9\r\n",
        "vllm:num_requests_running 1\nvllm:num_requests_waiting\t4\nvllm:gpu_cache_usage_perc{model_name=\"m\"} 0.35",
        "# HELP vllm:num_requests_running x\nvllm:num_requests_running_total{model_name=\"m\"} 9\nvllm:num_requests_waiting_by_reason{reason=\"x\"} 7\nvllm:num_requests_waiting{model_name=\"m\"} 2\n",
        "process_max_fds 1024\nhttp_requests_total 3\n",
    };

    [Theory]
    [MemberData(nameof(Pages))]
    public void RawPage_ReadsTheSameLoadAsTheParsedSamples(string page)
    {
        var expected = VllmLoadReader.TryRead(PrometheusTextParser.Parse(page).Samples, Now, out var parsed);

        var actual = VllmLoadReader.TryRead(System.Text.Encoding.UTF8.GetBytes(page), Now, out var raw);

        Assert.Equal(expected, actual);
        Assert.Equal(parsed, raw);
    }

    [Fact]
    public void RawPage_IgnoresMetricsThatOnlyStartWithAGaugeName()
    {
        const string page = "vllm:num_requests_running_total 9\nvllm:num_requests_waiting 2\n";

        Assert.True(VllmLoadReader.TryRead(System.Text.Encoding.UTF8.GetBytes(page), Now, out var load));
        Assert.Equal((0, 2), (load!.Running, load.Waiting));
    }
}
