using Microsoft.Extensions.Time.Testing;
using PdApp.Simulator.Configuration;
using PdApp.Simulator.Engine;
using PdApp.Simulator.Scheduling;

namespace PdApp.Tests.Simulator.Engine;

/// <summary>
/// Prefill interference: prefill and decode share an instance's engine steps as in vLLM's chunked-prefill
/// batches, so prompt tokens computed on an instance that decodes slow its running streams, and its
/// decode batch slows the prompt's chunks.
/// </summary>
public sealed class PrefillInterferenceTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UnixEpoch);

    private static SimulatorOptions Options(bool interference = true, bool contention = true) => new()
    {
        Model = "m",
        Timing = new TimingOptions
        {
            TimeToFirstTokenMs = 20, PrefillTimePerTokenMs = 0.5, InterTokenLatencyMs = 10, MaxNumSeqs = 64,
            PrefillContention = contention, PrefillInterference = interference, MaxNumBatchedTokens = 512,
        },
    };

    [Fact]
    public void DecodeStep_CarriesThePrefillChunkOwed_UpToOneStepBudget()
    {
        var options = Options();
        var compute = new PrefillCompute(options, _time);
        var timing = new TimingModel(options, compute);

        Assert.Equal(TimeSpan.FromMilliseconds(10), timing.DecodeStepWithPrefill(1)); // nothing owed
        compute.Reserve(1000);                                                       // 500 ms owed
        Assert.Equal(TimeSpan.FromMilliseconds(10 + 256), timing.DecodeStepWithPrefill(1)); // 512 tokens x 0.5 ms
        _time.Advance(TimeSpan.FromMilliseconds(400));
        Assert.Equal(TimeSpan.FromMilliseconds(10 + 100), timing.DecodeStepWithPrefill(1)); // the last 100 ms
        _time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal(TimeSpan.FromMilliseconds(10), timing.DecodeStepWithPrefill(1));
    }

    [Fact]
    public void PrefillOnAnInstanceThatDecodes_PaysTheDecodeBatchOncePerChunk()
    {
        var options = Options();
        var compute = new PrefillCompute(options, _time);
        var timing = new TimingModel(options, compute);

        Assert.Equal(TimeSpan.FromMilliseconds(20 + 500), timing.Prefill(1000)); // nobody decodes
        _time.Advance(TimeSpan.FromSeconds(1));
        using (compute.EnterDecode())
        {
            // 1000 tokens = 2 chunks of 512, each in a step with the decoding sequence (10 ms).
            Assert.Equal(TimeSpan.FromMilliseconds(20 + 500 + 20), timing.Prefill(1000));
        }

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(0, compute.Decoding);
        Assert.Equal(TimeSpan.FromMilliseconds(20 + 500), timing.Prefill(1000));
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void Off_OrWithoutContention_DecodeStepsIgnorePrefills(bool interference, bool contention)
    {
        var options = Options(interference, contention);
        var compute = new PrefillCompute(options, _time);
        var timing = new TimingModel(options, compute);
        using var decoding = compute.EnterDecode();

        Assert.Equal(TimeSpan.FromMilliseconds(20 + 500), timing.Prefill(1000));
        Assert.Equal(TimeSpan.FromMilliseconds(10), timing.DecodeStepWithPrefill(1));
    }

    [Fact]
    public void CommandLine_InterferenceIsOnByDefault_BudgetIsHonoured()
    {
        var log = new List<string>();
        var defaults = SimulatorOptionsParser.Parse(["serve", "m"], log).Timing;
        var set = SimulatorOptionsParser.Parse(["serve", "m", "--max-num-batched-tokens", "8192", "--no-prefill-interference"], log).Timing;

        Assert.True(defaults.PrefillInterference);
        Assert.Equal(2048, defaults.MaxNumBatchedTokens);
        Assert.False(set.PrefillInterference);
        Assert.Equal(8192, set.MaxNumBatchedTokens);
        Assert.DoesNotContain(log, line => line.Contains("--max-num-batched-tokens", StringComparison.Ordinal));
        Assert.Throws<SimulatorArgumentException>(() => SimulatorOptionsParser.Parse(["serve", "m", "--max-num-batched-tokens", "0"], log));
    }
}
