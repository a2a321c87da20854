namespace PdApp.Proxy.Memory;

/// <summary>What one trim did: the process's resident memory before, after the GC and after the native trim.</summary>
/// <param name="ResidentBefore">Resident bytes before the trim.</param>
/// <param name="ResidentAfterGc">Resident bytes after the compacting GC.</param>
/// <param name="ResidentAfter">Resident bytes after the native heap trim (as after the GC when it did not run).</param>
/// <param name="ManagedHeapAfter">Managed heap bytes after the GC.</param>
/// <param name="NativeHeapTrimmed">Whether <c>malloc_trim</c> ran.</param>
/// <param name="Duration">How long the trim took.</param>
internal readonly record struct MemoryTrimResult(
    long ResidentBefore, long ResidentAfterGc, long ResidentAfter, long ManagedHeapAfter, bool NativeHeapTrimmed, TimeSpan Duration);
