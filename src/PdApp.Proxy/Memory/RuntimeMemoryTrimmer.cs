using System.Diagnostics;

namespace PdApp.Proxy.Memory;

/// <summary>
/// A blocking, compacting gen-2 GC in <see cref="GCCollectionMode.Aggressive"/> mode (the runtime
/// decommits every free region it can, instead of keeping them for the next burst), then
/// <see cref="NativeHeap.TryTrim"/>. The GC pauses every managed thread for its duration (tens of
/// ms with the proxy's ~25 MB heap), which is why it runs only when no request is in flight.
/// </summary>
internal sealed class RuntimeMemoryTrimmer : IMemoryTrimmer
{
    public MemoryTrimResult Trim(bool trimNativeHeap)
    {
        var started = Stopwatch.GetTimestamp();
        var before = Environment.WorkingSet;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var afterGc = Environment.WorkingSet;
        var heap = GC.GetTotalMemory(forceFullCollection: false);
        var native = trimNativeHeap && NativeHeap.TryTrim();
        var after = native ? Environment.WorkingSet : afterGc;
        return new MemoryTrimResult(before, afterGc, after, heap, native, Stopwatch.GetElapsedTime(started));
    }
}
