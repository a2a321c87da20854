using PdApp.Bench.Load;

namespace PdApp.Tests.Bench;

public sealed class LoadTests
{
    [Fact]
    public void PoissonInterArrivals_HaveMeanOneOverRateAndExponentialSpread()
    {
        var arrivals = new ArrivalProcess(requestsPerSecond: 40, seed: 11);
        var samples = Enumerable.Range(0, 50_000).Select(_ => arrivals.NextInterval().TotalSeconds).ToArray();

        var mean = samples.Average();
        Assert.InRange(mean, 0.025 * 0.97, 0.025 * 1.03);
        // Exponential: the standard deviation equals the mean, and P(X > mean) = 1/e.
        var deviation = Math.Sqrt(samples.Select(s => (s - mean) * (s - mean)).Average());
        Assert.InRange(deviation / mean, 0.95, 1.05);
        Assert.InRange(samples.Count(s => s > mean) / (double)samples.Length, 0.35, 0.385);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(4.0)]
    public void BurstyArrivals_KeepTheMeanRateWithGammaSpread(double burstiness)
    {
        var arrivals = new ArrivalProcess(requestsPerSecond: 20, seed: 5, burstiness);
        var samples = Enumerable.Range(0, 50_000).Select(_ => arrivals.NextInterval().TotalSeconds).ToArray();

        var mean = samples.Average();
        Assert.InRange(mean, 0.05 * 0.97, 0.05 * 1.03);
        // Gamma(k): coefficient of variation 1 / sqrt(k).
        var deviation = Math.Sqrt(samples.Select(s => (s - mean) * (s - mean)).Average());
        Assert.InRange(deviation / mean, 0.95 / Math.Sqrt(burstiness), 1.05 / Math.Sqrt(burstiness));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    [InlineData(double.PositiveInfinity)]
    public void NonPositiveBurstiness_IsRejected(double burstiness)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ArrivalProcess(1, 0, burstiness));
    }

    [Fact]
    public void PoissonSchedule_IsReproducibleFromTheSeed()
    {
        var a = new ArrivalProcess(5, 3);
        var b = new ArrivalProcess(5, 3);

        Assert.Equal(Enumerable.Range(0, 10).Select(_ => a.NextInterval()), Enumerable.Range(0, 10).Select(_ => b.NextInterval()));
    }

    [Fact]
    public void InfiniteRate_SendsWithoutWaiting()
    {
        var arrivals = new ArrivalProcess(double.PositiveInfinity, 0);

        Assert.True(arrivals.IsUnlimited);
        Assert.Equal(TimeSpan.Zero, arrivals.NextInterval());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(double.NaN)]
    public void NonPositiveRate_IsRejected(double rate)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ArrivalProcess(rate, 0));
    }

    [Fact]
    public void TwoTargets_GetEveryPromptInAlternatingOrder()
    {
        var sends = Enumerable.Range(0, 8).Select(slot => InterleavedSchedule.At(slot, 2)).ToArray();

        Assert.Equal([(0L, 0), (0L, 1), (1L, 1), (1L, 0), (2L, 0), (2L, 1), (3L, 1), (3L, 0)], sends);
    }
}
