using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using PdApp.Protocol;
using PdApp.Proxy.Memory;
using PdApp.Tests.Proxy.Infrastructure;
using PdApp.Tests.Proxy.Routing;

namespace PdApp.Tests.Proxy.Memory;

/// <summary>
/// The idle memory trim service on a fake clock: it trims once after traffic has stopped for
/// <c>IdleSeconds</c>, never while a request is in flight, and not at all when switched off; the proxy
/// counts its completion requests in flight for it.
/// </summary>
public sealed class IdleMemoryTrimServiceTests
{
    private sealed class CountingTrimmer : IMemoryTrimmer
    {
        private int _trims;

        public int Trims => Volatile.Read(ref _trims);

        public MemoryTrimResult Trim(bool trimNativeHeap)
        {
            Interlocked.Increment(ref _trims);
            return new MemoryTrimResult(100, 80, 70, 10, trimNativeHeap, TimeSpan.FromMilliseconds(5));
        }
    }

    private sealed class TestMeterFactory : System.Diagnostics.Metrics.IMeterFactory
    {
        private readonly List<System.Diagnostics.Metrics.Meter> _meters = [];

        public System.Diagnostics.Metrics.Meter Single => _meters.Single();

        public System.Diagnostics.Metrics.Meter Create(System.Diagnostics.Metrics.MeterOptions options)
        {
            var meter = new System.Diagnostics.Metrics.Meter(options.Name, options.Version, options.Tags, scope: this);
            _meters.Add(meter);
            return meter;
        }

        public void Dispose() => _meters.ForEach(m => m.Dispose());
    }

    private static IdleMemoryTrimService Create(
        MemoryOptions options, InFlightRequests requests, IMemoryTrimmer trimmer, FakeTimeProvider time, TestMeterFactory meters) =>
        new(Options.Create(options), requests, trimmer, new MemoryTrimMeter(meters), time, NullLogger<IdleMemoryTrimService>.Instance);

    /// <summary>Advances the clock one check period at a time, waiting for the service to observe each.</summary>
    private static async Task AdvanceAsync(FakeTimeProvider time, IdleMemoryTrimService service, TimeSpan period, int checks)
    {
        for (var i = 0; i < checks; i++)
        {
            var before = service.Checks;
            time.Advance(period);
            Assert.True(await Eventually.TrueAsync(() => service.Checks > before), "the trim loop did not observe the tick");
        }
    }

    [Fact]
    public async Task Service_TrimsOnceAfterIdle_AndNeverWhileARequestIsInFlight()
    {
        var time = new FakeTimeProvider();
        var requests = new InFlightRequests();
        var trimmer = new CountingTrimmer();
        using var meters = new TestMeterFactory();
        var options = new MemoryOptions { IdleSeconds = 10, MinIntervalSeconds = 60 };
        var period = new IdleTrimPolicy(options, time).CheckPeriod;
        using var service = Create(options, requests, trimmer, time, meters);
        using var metrics = new MetricsRecorder(meters.Single);
        await service.StartAsync(CancellationToken.None);
        await service.Watching.WaitAsync(TimeSpan.FromSeconds(5));

        // A long request: ten idle periods pass on the clock while it is in flight.
        var request = requests.Enter();
        await AdvanceAsync(time, service, period, checks: (int)(10 * options.IdleSeconds / period.TotalSeconds));
        Assert.Equal(0, trimmer.Trims);

        // It ends: one trim once the proxy has been idle for IdleSeconds, not before.
        request.Dispose();
        await AdvanceAsync(time, service, period, checks: (int)(options.IdleSeconds / period.TotalSeconds) - 1);
        Assert.Equal(0, trimmer.Trims);
        await AdvanceAsync(time, service, period, checks: 2);
        Assert.Equal(1, trimmer.Trims);
        Assert.Equal(1, metrics.Sum("pdapp.proxy.memory.trims"));
        Assert.Equal(30, metrics.Sum("pdapp.proxy.memory.trim_released"));

        // Idle on: no second trim without new traffic.
        await AdvanceAsync(time, service, period, checks: (int)(2 * options.MinIntervalSeconds / period.TotalSeconds));
        Assert.Equal(1, trimmer.Trims);
        await service.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Service_SwitchedOff_NeverRuns()
    {
        var time = new FakeTimeProvider();
        var requests = new InFlightRequests();
        var trimmer = new CountingTrimmer();
        using var meters = new TestMeterFactory();
        using var service = Create(new MemoryOptions { TrimWhenIdle = false, IdleSeconds = 1 }, requests, trimmer, time, meters);
        await service.StartAsync(CancellationToken.None);

        requests.Enter().Dispose();
        time.Advance(TimeSpan.FromHours(1));

        await service.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(service.Watching.IsCompleted);
        Assert.Equal(0, service.Checks);
        Assert.Equal(0, trimmer.Trims);
        await service.StopAsync(CancellationToken.None);
    }

    [Fact]
    public void RuntimeTrimmer_GivesBackMemoryAndReportsEachStep()
    {
        var result = new RuntimeMemoryTrimmer().Trim(trimNativeHeap: true);

        Assert.True(result.ResidentBefore > 0 && result.ResidentAfterGc > 0 && result.ResidentAfter > 0);
        Assert.True(result.ManagedHeapAfter > 0);
        Assert.Equal(NativeHeap.IsSupported, result.NativeHeapTrimmed);
        Assert.Equal(OperatingSystem.IsLinux(), NativeHeap.IsSupported || !File.Exists("/lib/x86_64-linux-gnu/libc.so.6"));
    }

    [Fact]
    public async Task Proxy_CountsACompletionInFlightUntilItsStreamEnds()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0", ["--inter-token-latency", "25"]);
        var decode = await SimulatorInstance.StartAsync("decode-0", ["--inter-token-latency", "25"]);
        await using var proxy = await ProxyFixture.StartAsync(KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(decode)]);
        var requests = proxy.Services.GetRequiredService<InFlightRequests>();

        using (var response = await proxy.PostAsync(
            "/v1/completions", Bodies.Completion(maxTokens: 40, stream: true), completion: HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(1, requests.Count);
            Assert.Equal(1, requests.Started);
            await SseEvents.ReadAllAsync(response);
        }

        Assert.True(await Eventually.TrueAsync(() => requests.Count == 0), "the request still counts as in flight");

        // Health probes and scrapes are not traffic.
        using var health = await proxy.Client.GetAsync(new Uri("/health", UriKind.Relative));
        Assert.Equal(1, requests.Started);
    }
}
