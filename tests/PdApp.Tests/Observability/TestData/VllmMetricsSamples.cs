using System.Runtime.CompilerServices;

namespace PdApp.Tests.Observability.TestData;

/// <summary>Reads the vLLM <c>/metrics</c> pages kept next to this file.</summary>
internal static class VllmMetricsSamples
{
    /// <summary>The vLLM 0.11 page (3 running, 1 waiting, KV 0.4127...).</summary>
    public static string Vllm011 => Read("vllm-0.11-metrics.txt");

    private static string Read(string file, [CallerFilePath] string here = "") =>
        File.ReadAllText(Path.Combine(Path.GetDirectoryName(here)!, file));
}
