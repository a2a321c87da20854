using Microsoft.Extensions.Configuration;

namespace PdApp.Simulator.Configuration;

/// <summary>
/// The environment variables vLLM and LMCache read (<c>VLLM_*</c>, <c>LMCACHE_*</c>,
/// <c>OTEL_SERVICE_NAME</c>), read through configuration so tests can give two in-process instances
/// different values.
/// </summary>
internal sealed class SimulatorEnvironment(IConfiguration configuration)
{
    /// <summary>A variable's value, or null when unset or empty.</summary>
    public string? Get(string name) => configuration[name] is { Length: > 0 } value ? value : null;

    /// <summary>All variables whose name starts with <paramref name="prefix"/>.</summary>
    public IEnumerable<KeyValuePair<string, string>> WithPrefix(string prefix) =>
        configuration.AsEnumerable()
            .Where(pair => pair.Key.StartsWith(prefix, StringComparison.Ordinal) && !pair.Key.Contains(':', StringComparison.Ordinal) && pair.Value is not null)
            .Select(pair => new KeyValuePair<string, string>(pair.Key, pair.Value!));
}
