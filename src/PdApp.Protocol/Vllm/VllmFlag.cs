namespace PdApp.Protocol.Vllm;

/// <summary>One engine argument of <c>vllm serve</c> (vllm/engine/arg_utils.py, vllm/entrypoints/openai/cli_args.py).</summary>
/// <param name="Name">The flag, e.g. <c>--max-model-len</c>.</param>
/// <param name="Arity">How many values it takes.</param>
/// <param name="Aliases">Other spellings vLLM accepts, e.g. <c>-tp</c>.</param>
public sealed record VllmFlag(string Name, VllmFlagArity Arity, params string[] Aliases)
{
    /// <summary>The flag's name.</summary>
    /// <returns><see cref="Name"/>.</returns>
    public override string ToString() => Name;
}
