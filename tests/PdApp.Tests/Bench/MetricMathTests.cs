using PdApp.Bench.Measurement;
using PdApp.Bench.Reporting;

namespace PdApp.Tests.Bench;

public sealed class MetricMathTests
{
    [Fact]
    public void Tpot_IsDecodeTimeOverTokensAfterTheFirst()
    {
        var outcome = Success(ttftMs: 100, e2eMs: 1_100, outputTokens: 101);

        Assert.Equal(10_000, outcome.TpotMicroseconds);
    }

    [Fact]
    public void Tpot_IsUndefinedForOneTokenAndForUnstreamedResponses()
    {
        Assert.Null(Success(100, 100, outputTokens: 1).TpotMicroseconds);
        Assert.Null((Success(100, 900, outputTokens: 50) with { Streamed = false }).TpotMicroseconds);
    }

    [Fact]
    public void Percentiles_AreExactAsNumpyComputesThem()
    {
        var recorder = new MetricsRecorder("t", SloSettings.None);
        for (var ms = 1; ms <= 1000; ms++)
        {
            recorder.Record(Success(ttftMs: ms, e2eMs: ms * 2, outputTokens: 2));
        }

        var result = recorder.ToResult(8, double.PositiveInfinity, TimeSpan.FromSeconds(10));

        Assert.Equal(1000, result.Ttft.Count);
        // numpy: median(1..1000) = 500.5, percentile(.., 90) = 900.1, percentile(.., 99) = 990.01.
        Assert.Equal(500.5, result.Ttft.P50, 9);
        Assert.Equal(900.1, result.Ttft.P90, 9);
        Assert.Equal(990.01, result.Ttft.P99, 9);
        Assert.Equal(1000, result.Ttft.Max, 9);
        Assert.Equal(500.5, result.Ttft.Mean, 9);
        Assert.Equal(1980.02, result.E2e.P99, 9);
        Assert.Equal(500.5, result.Tpot.P50, 9);
    }

    [Fact]
    public void MeanMedianStdAndPercentiles_MatchNumpysDefinitions()
    {
        var recorder = new MetricsRecorder("t", SloSettings.None, percentiles: [25, 99.9]);
        foreach (var ms in new[] { 4.0, 1.0, 3.0, 2.0 })
        {
            recorder.Record(Success(ttftMs: ms, e2eMs: 10, outputTokens: 1));
        }

        var ttft = recorder.ToResult(1, 1, TimeSpan.FromSeconds(1)).Ttft;

        // numpy over [1, 2, 3, 4]: mean 2.5, median 2.5 (average of the middle two), std 1.118034 (population),
        // percentile 25 -> 1.75, 99.9 -> 3.997 (linear interpolation).
        Assert.Equal(2.5, ttft.Mean, 9);
        Assert.Equal(2.5, ttft.Median, 9);
        Assert.Equal(Math.Sqrt(1.25), ttft.Std, 9);
        Assert.Equal(1.75, ttft.At(25)!.Value, 9);
        Assert.Equal(3.997, ttft.At(99.9)!.Value, 9);
        Assert.Equal([25, 99.9], ttft.Percentiles.Select(p => p.Percentile));
    }

    [Fact]
    public void NoSamples_SummariseToZerosAsVllmReportsAnEmptyList()
    {
        var tpot = new MetricsRecorder("t", SloSettings.None, percentiles: [99]).ToResult(1, 1, TimeSpan.FromSeconds(1)).Tpot;

        Assert.Equal(0, tpot.Count);
        Assert.Equal(0, tpot.Mean);
        Assert.Equal(0, tpot.Std);
        Assert.Equal(0, tpot.At(99));
    }

    [Fact]
    public void InterTokenGaps_AreSummarisedAcrossRequests()
    {
        var recorder = new MetricsRecorder("t", SloSettings.None);
        foreach (var gap in new long[] { 5_000, 5_000, 5_000, 50_000 })
        {
            recorder.OnInterTokenLatency(gap);
        }

        var itl = recorder.ToResult(null, 1, TimeSpan.FromSeconds(1)).Itl;

        Assert.Equal(4, itl.Count);
        Assert.InRange(itl.P50, 4.99, 5.01);
        Assert.InRange(itl.Max, 49.9, 50.1);
    }

    [Fact]
    public void ThroughputAndGoodput_CountOnlySuccessesAndRequestsMeetingEverySlo()
    {
        var recorder = new MetricsRecorder("t", new SloSettings(TtftMilliseconds: 200, TpotMilliseconds: 20));
        recorder.Record(Success(ttftMs: 100, e2eMs: 1_100, outputTokens: 101));   // TPOT 10 ms: good
        recorder.Record(Success(ttftMs: 300, e2eMs: 1_300, outputTokens: 101));   // TTFT too slow
        recorder.Record(Success(ttftMs: 100, e2eMs: 3_100, outputTokens: 101));   // TPOT 30 ms: too slow
        recorder.Record(RequestOutcome.Failed(ErrorKinds.Http(503), "busy", 5_000, 10));
        recorder.Record(RequestOutcome.Failed(ErrorKinds.Http(503), "busy", 5_000, 10));
        recorder.Record(RequestOutcome.Failed(ErrorKinds.Timeout, "slow", 5_000, 10));

        var result = recorder.ToResult(4, 2, TimeSpan.FromSeconds(2));

        Assert.Equal(3, result.Completed);
        Assert.Equal(3, result.Failed);
        Assert.Equal(1, result.GoodRequests);
        Assert.Equal(0.5, result.Goodput);
        Assert.Equal(1.5, result.RequestThroughput);
        Assert.Equal(303 / 2.0, result.OutputThroughput);
        Assert.Equal(2, result.Errors[ErrorKinds.Http(503)]);
        Assert.Equal(1, result.Errors[ErrorKinds.Timeout]);
    }

    [Fact]
    public void E2elObjective_CountsOnlyRequestsFinishingWithinIt()
    {
        var recorder = new MetricsRecorder("t", new SloSettings(null, null, E2elMilliseconds: 1_000));
        recorder.Record(Success(ttftMs: 100, e2eMs: 1_000, outputTokens: 10));   // equal to the objective: good, as vLLM
        recorder.Record(Success(ttftMs: 100, e2eMs: 1_001, outputTokens: 10));

        Assert.Equal(1, recorder.ToResult(1, 1, TimeSpan.FromSeconds(1)).GoodRequests);
    }

    [Fact]
    public void WithoutSlos_GoodputIsNotReported()
    {
        var recorder = new MetricsRecorder("t", SloSettings.None);
        recorder.Record(Success(1, 2, 2));

        Assert.Null(recorder.ToResult(1, 1, TimeSpan.FromSeconds(1)).Goodput);
    }

    [Fact]
    public void Comparison_GivesAddedLatencyAndCandidateOverBaselineRatios()
    {
        var baseline = new MetricsRecorder("direct", SloSettings.None);
        var candidate = new MetricsRecorder("proxy", SloSettings.None);
        baseline.Record(Success(ttftMs: 10, e2eMs: 110, outputTokens: 11));
        candidate.Record(Success(ttftMs: 12, e2eMs: 112, outputTokens: 11));

        var comparison = Comparison.Create(
            baseline.ToResult(1, 1, TimeSpan.FromSeconds(1)),
            candidate.ToResult(1, 1, TimeSpan.FromSeconds(2)),
            includeThroughput: true);

        var ttft = comparison.Rows.Single(row => row.Metric == "ttft_p50");
        Assert.InRange(ttft.Delta, 1.99, 2.01);
        Assert.InRange(ttft.Ratio!.Value, 1.19, 1.21);
        Assert.Equal(0.5, comparison.Rows.Single(row => row.Metric == "request_throughput").Ratio);
        Assert.Equal("direct", comparison.Baseline);
        Assert.Equal("proxy", comparison.Candidate);
    }

    [Fact]
    public void InterleavedComparison_LeavesOutThroughputWhichIsEqualByConstruction()
    {
        var run = new MetricsRecorder("t", SloSettings.None);
        run.Record(Success(10, 20, 3));
        var result = run.ToResult(1, 1, TimeSpan.FromSeconds(1));

        var comparison = new LevelResult(1, [result, result with { Target = "u" }], 0, Aborted: false).Comparison!;

        Assert.DoesNotContain(comparison.Rows, row => row.Unit is "req/s" or "tok/s");
        Assert.Contains(comparison.Rows, row => row.Metric == "ttft_p99");
    }

    private static RequestOutcome Success(double ttftMs, double e2eMs, int outputTokens) =>
        new(null, null, (long)(ttftMs * 1000), (long)(e2eMs * 1000), PromptTokens: 10, outputTokens, Streamed: true);
}
