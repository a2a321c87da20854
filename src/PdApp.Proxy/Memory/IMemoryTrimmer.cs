namespace PdApp.Proxy.Memory;

/// <summary>Gives committed memory back to the operating system (the runtime's in production, a fake in tests).</summary>
internal interface IMemoryTrimmer
{
    /// <summary>Trims now, blocking the calling thread (never a request's).</summary>
    /// <param name="trimNativeHeap">Also trim the native heap.</param>
    /// <returns>What the trim did.</returns>
    MemoryTrimResult Trim(bool trimNativeHeap);
}
