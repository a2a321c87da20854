using PdApp.Proxy.Routing;

namespace PdApp.Proxy.Routing.Load;

/// <summary>
/// Reads an engine's load from its <c>/metrics</c> samples, with the gauge names vLLM's
/// <c>vllm/v1/metrics/loggers.py</c> (<c>PrometheusStatLogger</c>) registers:
/// <c>vllm:num_requests_running</c>, <c>vllm:num_requests_waiting</c> and
/// <c>vllm:kv_cache_usage_perc</c> (before v0.10: <c>vllm:gpu_cache_usage_perc</c>, used when the
/// new name is absent). vLLM labels each gauge by <c>model_name</c> and, with data parallelism,
/// <c>engine</c>; running and waiting are summed over label sets (the server's total), the KV usage
/// is the largest of them: the fullest engine is the one that preempts first.
/// </summary>
public static class VllmLoadReader
{
    /// <summary><c>vllm:num_requests_running</c>.</summary>
    public const string RunningMetric = "vllm:num_requests_running";

    /// <summary><c>vllm:num_requests_waiting</c>.</summary>
    public const string WaitingMetric = "vllm:num_requests_waiting";

    /// <summary><c>vllm:kv_cache_usage_perc</c> (vLLM &gt;= 0.10).</summary>
    public const string KvCacheUsageMetric = "vllm:kv_cache_usage_perc";

    /// <summary><c>vllm:gpu_cache_usage_perc</c> (older vLLM; the fallback).</summary>
    public const string LegacyKvCacheUsageMetric = "vllm:gpu_cache_usage_perc";

    /// <summary>Reads the load from <paramref name="samples"/>.</summary>
    /// <param name="samples">The parsed exposition.</param>
    /// <param name="observedAt">When it was scraped.</param>
    /// <param name="load">The load, when the page has vLLM's gauges.</param>
    /// <returns>False when neither running nor waiting is on the page (not a vLLM server, or metrics disabled).</returns>
    public static bool TryRead(IEnumerable<PrometheusSample> samples, DateTimeOffset observedAt, out InstanceLoad? load)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var gauges = new Gauges();
        foreach (var sample in samples)
        {
            gauges.Add(sample);
        }

        return gauges.TryGetLoad(observedAt, out load);
    }

    /// <summary>
    /// Reads the load from a raw <c>/metrics</c> page (UTF-8). Only the lines of the four gauges
    /// are parsed: a vLLM page is ~100 KB of histograms the proxy never reads, and it is scraped
    /// from every instance every interval, so the rest is skipped without making a string of it.
    /// </summary>
    /// <param name="exposition">The page.</param>
    /// <param name="observedAt">When it was scraped.</param>
    /// <param name="load">The load, when the page has vLLM's gauges.</param>
    /// <returns>False when neither running nor waiting is on the page.</returns>
    public static bool TryRead(ReadOnlySpan<byte> exposition, DateTimeOffset observedAt, out InstanceLoad? load)
    {
        var gauges = new Gauges();
        Span<char> chars = stackalloc char[256];
        while (!exposition.IsEmpty)
        {
            var newline = exposition.IndexOf((byte)'\n');
            var line = newline < 0 ? exposition : exposition[..newline];
            exposition = newline < 0 ? [] : exposition[(newline + 1)..];
            line = line.Trim(" \t\r"u8);
            if (!line.StartsWith("vllm:"u8) || !IsGaugeLine(line))
            {
                continue;
            }

            // A gauge line is short (a name, a few labels, a number); a longer one is decoded on the heap.
            var text = line.Length <= chars.Length ? chars : new char[line.Length];
            var length = System.Text.Encoding.UTF8.GetChars(line, text);
            if (PrometheusTextParser.TryParseLine(text[..length], out var sample))
            {
                gauges.Add(sample);
            }
        }

        return gauges.TryGetLoad(observedAt, out load);
    }

    // Whether the line's metric name is one of the gauges (the name ends at '{', a space or a tab).
    private static bool IsGaugeLine(ReadOnlySpan<byte> line) =>
        IsMetric(line, "vllm:num_requests_running"u8) || IsMetric(line, "vllm:num_requests_waiting"u8)
        || IsMetric(line, "vllm:kv_cache_usage_perc"u8) || IsMetric(line, "vllm:gpu_cache_usage_perc"u8);

    private static bool IsMetric(ReadOnlySpan<byte> line, ReadOnlySpan<byte> name) =>
        line.StartsWith(name) && line.Length > name.Length && line[name.Length] is (byte)'{' or (byte)' ' or (byte)'\t';

    // Running and waiting summed over label sets (the server's total), KV usage the largest.
    private struct Gauges
    {
        private double _running, _waiting;
        private double? _kv, _legacyKv;
        private bool _found;

        public void Add(PrometheusSample sample)
        {
            if (double.IsNaN(sample.Value))
            {
                return;
            }

            switch (sample.Name)
            {
                case RunningMetric:
                    _running += sample.Value;
                    _found = true;
                    break;
                case WaitingMetric:
                    _waiting += sample.Value;
                    _found = true;
                    break;
                case KvCacheUsageMetric:
                    _kv = Math.Max(_kv ?? 0, sample.Value);
                    break;
                case LegacyKvCacheUsageMetric:
                    _legacyKv = Math.Max(_legacyKv ?? 0, sample.Value);
                    break;
            }
        }

        public readonly bool TryGetLoad(DateTimeOffset observedAt, out InstanceLoad? load)
        {
            if (!_found)
            {
                load = null;
                return false;
            }

            load = new InstanceLoad(ToCount(_running), ToCount(_waiting), Math.Clamp(_kv ?? _legacyKv ?? 0, 0, 1), observedAt);
            return true;
        }
    }

    private static int ToCount(double value) =>
        double.IsFinite(value) ? (int)Math.Clamp(Math.Round(value), 0, int.MaxValue) : 0;
}
