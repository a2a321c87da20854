using Microsoft.Extensions.Options;

namespace PdApp.Proxy.Memory;

/// <summary>
/// Runs <see cref="IMemoryTrimmer"/> when <see cref="IdleTrimPolicy"/> says the proxy has gone idle
/// after a busy period (<c>Pd:Proxy:Memory</c>). Its loop wakes every
/// <see cref="IdleTrimPolicy.CheckPeriod"/> on the host's <see cref="TimeProvider"/> and reads two
/// counters; the trim itself runs on this background loop, never on a request's thread.
/// </summary>
internal sealed class IdleMemoryTrimService(
    IOptions<MemoryOptions> options,
    InFlightRequests requests,
    IMemoryTrimmer trimmer,
    MemoryTrimMeter meter,
    TimeProvider time,
    ILogger<IdleMemoryTrimService> logger) : BackgroundService
{
    private const double BytesPerMegabyte = 1024 * 1024;
    private readonly TaskCompletionSource _watching = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _checks;

    /// <summary>Observations made so far (lets tests wait for the loop without sleeping).</summary>
    internal int Checks => Volatile.Read(ref _checks);

    /// <summary>Completes once the loop's timer runs (ExecuteAsync starts on a thread-pool thread).</summary>
    internal Task Watching => _watching.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.TrimWhenIdle)
        {
            return;
        }

        var nativeHeap = settings.TrimNativeHeap ? NativeHeap.IsSupported ? "malloc_trim" : "not available" : "off";
        MemoryLog.Enabled(logger, settings.IdleSeconds, settings.MinIntervalSeconds, nativeHeap);
        var policy = new IdleTrimPolicy(settings, time);
        using var timer = new PeriodicTimer(policy.CheckPeriod, time);
        _watching.TrySetResult();
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var due = policy.Observe(requests.Count, requests.Started);
                Interlocked.Increment(ref _checks);
                if (due)
                {
                    Trim(settings, policy, nativeHeap);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
    }

    private void Trim(MemoryOptions settings, IdleTrimPolicy policy, string nativeHeap)
    {
        policy.Trimmed();
        try
        {
            var result = trimmer.Trim(settings.TrimNativeHeap);
            meter.Trimmed(result);
            MemoryLog.Trimmed(
                logger,
                result.Duration.TotalMilliseconds,
                result.ResidentBefore / BytesPerMegabyte,
                result.ResidentAfterGc / BytesPerMegabyte,
                result.ResidentAfter / BytesPerMegabyte,
                result.NativeHeapTrimmed ? nativeHeap : "off",
                result.ManagedHeapAfter / BytesPerMegabyte);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            MemoryLog.Failed(logger, ex);
        }
    }
}
