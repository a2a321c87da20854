using System.Runtime.InteropServices;

namespace PdApp.Proxy.Memory;

/// <summary>
/// glibc's <c>malloc_trim(0)</c>: returns the free pages at the top and inside each malloc arena to
/// the kernel (https://man7.org/linux/man-pages/man3/malloc_trim.3.html). Native allocations of the
/// runtime and of libraries (TLS, compression, sockets) are freed into the arenas, which otherwise
/// keep them resident. Absent outside Linux with glibc (musl, macOS, Windows): then a no-op.
/// </summary>
internal static class NativeHeap
{
    private const string GlibcLibrary = "libc.so.6";

    private static readonly Lazy<bool> Available = new(() =>
        OperatingSystem.IsLinux()
        && NativeLibrary.TryLoad(GlibcLibrary, out var handle)
        && NativeLibrary.TryGetExport(handle, "malloc_trim", out _));

    /// <summary>Whether <c>malloc_trim</c> can be called here.</summary>
    public static bool IsSupported => Available.Value;

    /// <summary>Calls <c>malloc_trim(0)</c> where supported.</summary>
    /// <returns><see langword="true"/> when it ran (whether or not it released memory).</returns>
    public static bool TryTrim()
    {
        if (!IsSupported)
        {
            return false;
        }

        _ = MallocTrim(0);
        return true;
    }

    // DllImport rather than LibraryImport: the generated stub would need unsafe code, and the
    // signature (an integer in, an integer out) needs no marshalling.
#pragma warning disable SYSLIB1054
    [DllImport(GlibcLibrary, EntryPoint = "malloc_trim", ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int MallocTrim(nuint pad);
#pragma warning restore SYSLIB1054
}
