namespace PdApp.Proxy.Routing.Load;

/// <summary>One sample line of the Prometheus text exposition format: <c>name{labels} value [timestamp]</c>.</summary>
/// <param name="Name">The metric name, e.g. <c>vllm:num_requests_running</c> or <c>..._bucket</c>.</param>
/// <param name="Labels">The label pairs, unescaped, in the order written.</param>
/// <param name="Value">The value (NaN and +/-Inf included).</param>
/// <param name="TimestampMs">The optional timestamp in milliseconds since the epoch.</param>
public sealed record PrometheusSample(
    string Name,
    IReadOnlyList<KeyValuePair<string, string>> Labels,
    double Value,
    long? TimestampMs)
{
    /// <summary>The value of label <paramref name="name"/>, or null.</summary>
    /// <param name="name">The label name.</param>
    /// <returns>The value, or null when absent.</returns>
    public string? Label(string name)
    {
        foreach (var (key, value) in Labels)
        {
            if (key == name)
            {
                return value;
            }
        }

        return null;
    }
}
