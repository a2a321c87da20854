namespace PdApp.Proxy.Memory;

/// <summary>The idle memory trim's log messages (source-generated).</summary>
internal static partial class MemoryLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Debug,
        Message = "Idle memory trim on: after {IdleSeconds} s without requests, at most every {MinIntervalSeconds} s; native heap trim {NativeHeap}")]
    public static partial void Enabled(ILogger logger, double idleSeconds, double minIntervalSeconds, string nativeHeap);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information,
        Message = "Idle memory trim in {DurationMs:0.0} ms: resident {BeforeMb:0.0} MB -> {AfterGcMb:0.0} MB after the GC -> {AfterMb:0.0} MB after the native heap trim ({NativeHeap}); managed heap {HeapMb:0.0} MB")]
    public static partial void Trimmed(ILogger logger, double durationMs, double beforeMb, double afterGcMb, double afterMb, string nativeHeap, double heapMb);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Idle memory trim failed; it stays on and is tried again after the next busy period")]
    public static partial void Failed(ILogger logger, Exception exception);
}
