using Microsoft.Extensions.Options;
using PdApp.Proxy.Pipeline.Forwarding;
using PdApp.Proxy.Pipeline.Options;

namespace PdApp.Tests.Proxy;

/// <summary>The one timeout policy: each deadline and each error text names the configured setting and value.</summary>
public sealed class UpstreamTimeoutsTests
{
    private static UpstreamTimeouts Policy(Action<TimeoutOptions>? configure = null)
    {
        var options = new ProxyOptions
        {
            Timeouts = { ConnectSeconds = 2.5, PrefillSeconds = 40, PrefillFirstByteSeconds = 7, DecodeIdleSeconds = 12.25, DecodeNonStreamingSeconds = 900 },
        };
        configure?.Invoke(options.Timeouts);
        return new UpstreamTimeouts(Microsoft.Extensions.Options.Options.Create(options));
    }

    public static TheoryData<string, string> Messages() => new()
    {
        { Policy().ConnectTimedOut("decode"), "2.5 s (Pd:Proxy:Timeouts:ConnectSeconds)" },
        { Policy().PrefillTotalTimedOut(), "40 s (Pd:Proxy:Timeouts:PrefillSeconds)" },
        { Policy().PrefillFirstByteTimedOut(), "7 s (Pd:Proxy:Timeouts:PrefillFirstByteSeconds)" },
        { Policy().DecodeHeadersTimedOut(stream: true), "12.25 s (Pd:Proxy:Timeouts:DecodeIdleSeconds)" },
        { Policy().DecodeHeadersTimedOut(stream: false), "900 s (Pd:Proxy:Timeouts:DecodeNonStreamingSeconds)" },
        { Policy().DecodeIdleTimedOut(), "12.25 s (Pd:Proxy:Timeouts:DecodeIdleSeconds)" },
    };

    [Theory]
    [MemberData(nameof(Messages))]
    public void TimeoutErrorText_NamesTheSettingAndItsConfiguredValue(string message, string expected) =>
        Assert.Contains(expected, message);

    [Fact]
    public void Deadlines_AreTheConfiguredValues()
    {
        var policy = Policy();

        Assert.Equal(TimeSpan.FromSeconds(2.5), policy.Connect);
        Assert.Equal(TimeSpan.FromSeconds(40), policy.PrefillTotal);
        Assert.Equal(TimeSpan.FromSeconds(7), policy.PrefillFirstByte);
        Assert.Equal(TimeSpan.FromSeconds(12.25), policy.DecodeHeaderWait(stream: true));
        Assert.Equal(TimeSpan.FromSeconds(900), policy.DecodeHeaderWait(stream: false));
        Assert.Equal(TimeSpan.FromSeconds(12.25), policy.DecodeIdle);
    }

    [Fact]
    public void PrefillFirstByteUnset_IsTheTotalAndSaysSo()
    {
        var policy = Policy(t => t.PrefillFirstByteSeconds = 0);

        Assert.Equal(TimeSpan.FromSeconds(40), policy.PrefillFirstByte);
        Assert.Contains("40 s (Pd:Proxy:Timeouts:PrefillSeconds)", policy.PrefillFirstByteTimedOut());
    }

    [Fact]
    public async Task Watchdog_ReportsWhichDeadlineFired()
    {
        using var headers = new DecodeWatchdog(TimeSpan.FromMilliseconds(20), TimeSpan.FromHours(1));
        using var idle = new DecodeWatchdog(TimeSpan.FromHours(1), TimeSpan.FromMilliseconds(20));

        var headerToken = headers.ArmForHeaders();
        idle.ArmForHeaders();
        idle.Disarm();
        var readToken = idle.ArmForRead();
        await Task.WhenAll(Cancelled(headerToken), Cancelled(readToken));

        Assert.Equal(DecodeDeadline.Headers, headers.Fired);
        Assert.Equal(DecodeDeadline.Idle, idle.Fired);
    }

    [Fact]
    public void Watchdog_FollowingACancelledCallerIsNoDeadline()
    {
        using var watchdog = new DecodeWatchdog(TimeSpan.FromHours(1), TimeSpan.FromHours(1));
        using var caller = new CancellationTokenSource();
        using var registration = watchdog.Follow(caller.Token);
        var token = watchdog.ArmForRead();

        caller.Cancel();

        Assert.True(token.IsCancellationRequested);
        Assert.Equal(DecodeDeadline.None, watchdog.Fired);
    }

    private static Task Cancelled(CancellationToken token)
    {
        var done = new TaskCompletionSource();
        token.Register(done.SetResult);
        return done.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
