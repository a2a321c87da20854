using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using PdApp.Proxy.Pipeline.Admission;
using PdApp.Proxy.Pipeline.Options;

namespace PdApp.Tests.Proxy.Admission;

/// <summary>
/// <c>Pd:Proxy:Admission:RateLimitMode</c>: reject answers 429 at once; wait queues for a token
/// (FIFO, bounded by <c>RateLimitMaxWaitSeconds</c>) on a fake clock, so nothing sleeps.
/// </summary>
public sealed class RateLimitModeTests
{
    private static AdmissionController Create(FakeTimeProvider time, string mode, double maxWaitSeconds = 30, int maxConcurrent = 8) =>
        new(Options.Create(new ProxyOptions
        {
            Admission = new AdmissionOptions
            {
                RequestsPerSecond = 1,
                Burst = 1,
                MaxConcurrentRequests = maxConcurrent,
                RateLimitMode = mode,
                RateLimitMaxWaitSeconds = maxWaitSeconds,
            },
        }), time);

    [Fact]
    public async Task RejectMode_OverTheRate_IsRateLimitedAtOnceWithRetryAfter()
    {
        var time = new FakeTimeProvider();
        using var admission = Create(time, RateLimitModes.Reject);

        using var first = await admission.AdmitAsync(CancellationToken.None);
        using var second = await admission.AdmitAsync(CancellationToken.None);

        Assert.True(first.IsAdmitted);
        Assert.Equal(AdmissionRejection.RateLimited, second.Rejection);
        Assert.Equal(TimeSpan.FromSeconds(1), second.RetryAfter);

        // After the refill the next request is admitted again.
        time.Advance(TimeSpan.FromSeconds(1));
        using var third = await admission.AdmitAsync(CancellationToken.None);
        Assert.True(third.IsAdmitted);
    }

    [Fact]
    public async Task WaitMode_OverTheRate_IsAdmittedAfterTheRefillInsteadOf429()
    {
        var time = new FakeTimeProvider();
        using var admission = Create(time, RateLimitModes.Wait);

        using var first = await admission.AdmitAsync(CancellationToken.None);
        var second = admission.AdmitAsync(CancellationToken.None).AsTask();

        Assert.True(first.IsAdmitted);
        Assert.False(second.IsCompleted, "the second request waits for a token");
        Assert.Equal(1, admission.WaitingForToken);

        time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(second.IsCompleted, "no token before the refill");

        time.Advance(TimeSpan.FromMilliseconds(1));
        using var admitted = await second.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(admitted.IsAdmitted);
        Assert.Equal(0, admission.WaitingForToken);
    }

    [Fact]
    public async Task WaitMode_WaitersAreServedOldestFirst()
    {
        var time = new FakeTimeProvider();
        using var admission = Create(time, RateLimitModes.Wait);
        using var first = await admission.AdmitAsync(CancellationToken.None);

        var second = admission.AdmitAsync(CancellationToken.None).AsTask();
        var third = admission.AdmitAsync(CancellationToken.None).AsTask();

        time.Advance(TimeSpan.FromSeconds(1));
        using var secondResult = await second.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(secondResult.IsAdmitted);
        Assert.False(third.IsCompleted, "the later waiter gets the next token, not this one");

        time.Advance(TimeSpan.FromSeconds(1));
        using var thirdResult = await third.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(thirdResult.IsAdmitted);
    }

    [Fact]
    public async Task WaitMode_WaitBeyondTheBound_IsRateLimited()
    {
        var time = new FakeTimeProvider();
        using var admission = Create(time, RateLimitModes.Wait, maxWaitSeconds: 0.5);
        using var first = await admission.AdmitAsync(CancellationToken.None);

        var second = admission.AdmitAsync(CancellationToken.None).AsTask();
        time.Advance(TimeSpan.FromMilliseconds(500));

        using var refused = await second.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(AdmissionRejection.RateLimited, refused.Rejection);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.RetryAfter);
        Assert.Equal(0, admission.WaitingForToken);
    }

    [Fact]
    public async Task WaitMode_MoreWaitersThanTokensWithinTheBound_AreRefusedAtOnce()
    {
        var time = new FakeTimeProvider();
        using var admission = Create(time, RateLimitModes.Wait, maxWaitSeconds: 1.5);
        using var first = await admission.AdmitAsync(CancellationToken.None);

        // At 1 token/s, 2 tokens are due within the 1.5 s bound (rounded up): two may wait, the next is refused without waiting.
        var second = admission.AdmitAsync(CancellationToken.None).AsTask();
        var third = admission.AdmitAsync(CancellationToken.None).AsTask();
        using var fourth = await admission.AdmitAsync(CancellationToken.None);

        Assert.Equal(AdmissionRejection.RateLimited, fourth.Rejection);
        Assert.Equal(TimeSpan.FromSeconds(3), fourth.RetryAfter);
        Assert.Equal(2, admission.WaitingForToken);
        time.Advance(TimeSpan.FromSeconds(1));
        using var secondResult = await second.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(secondResult.IsAdmitted);
        time.Advance(TimeSpan.FromSeconds(0.5));
        using var thirdResult = await third.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(AdmissionRejection.RateLimited, thirdResult.Rejection);
    }

    [Fact]
    public async Task WaitMode_ClientLeavesWhileWaiting_StopsTheWaitAndTakesNoToken()
    {
        var time = new FakeTimeProvider();
        using var admission = Create(time, RateLimitModes.Wait);
        using var first = await admission.AdmitAsync(CancellationToken.None);

        using var client = new CancellationTokenSource();
        var leaving = admission.AdmitAsync(client.Token).AsTask();
        var staying = admission.AdmitAsync(CancellationToken.None).AsTask();
        await client.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leaving.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, admission.WaitingForToken);

        // The next token goes to the request still waiting, not to the one that left.
        time.Advance(TimeSpan.FromSeconds(1));
        using var stayed = await staying.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(stayed.IsAdmitted);
        Assert.Equal(0, admission.AvailableTokens);
    }

    [Fact]
    public async Task WaitMode_WaitingForATokenHoldsNoConcurrencySlot()
    {
        var time = new FakeTimeProvider();
        using var admission = Create(time, RateLimitModes.Wait, maxConcurrent: 1);
        var first = await admission.AdmitAsync(CancellationToken.None);

        var second = admission.AdmitAsync(CancellationToken.None).AsTask();
        time.Advance(TimeSpan.FromSeconds(1));

        // The token came; the only slot is still the first request's, so the second now queues for it.
        Assert.False(second.IsCompleted);
        first.Dispose();
        using var secondResult = await second.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(secondResult.IsAdmitted);
    }
}
