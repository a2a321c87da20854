namespace PdApp.Simulator.Configuration;

/// <summary>
/// The raw result of splitting a <c>vllm serve</c> command line: the positional model and each flag's
/// values, keyed by the normalised flag name (<c>--a_b</c> and <c>--a-b</c> are the same flag, as in
/// vLLM's FlexibleArgumentParser).
/// </summary>
internal sealed class ParsedArguments
{
    private readonly Dictionary<string, List<string?>> _flags = new(StringComparer.Ordinal);

    /// <summary>The positional model (after an optional leading <c>serve</c>).</summary>
    public string? PositionalModel { get; set; }

    /// <summary>Flag names in the order first seen.</summary>
    public IEnumerable<string> FlagNames => _flags.Keys;

    /// <summary>Records one occurrence of a flag.</summary>
    public void Add(string flag, IEnumerable<string?> values)
    {
        if (!_flags.TryGetValue(flag, out var list))
        {
            list = [];
            _flags[flag] = list;
        }

        list.AddRange(values);
    }

    /// <summary>Whether the flag was given.</summary>
    public bool Has(string flag) => _flags.ContainsKey(flag);

    /// <summary>All values given to a flag (empty for a bare switch).</summary>
    public IReadOnlyList<string?> Values(string flag) => _flags.TryGetValue(flag, out var list) ? list : [];
}
