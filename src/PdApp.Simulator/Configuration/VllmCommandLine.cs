using PdApp.Protocol.Vllm;

namespace PdApp.Simulator.Configuration;

/// <summary>
/// Splits a <c>vllm serve</c> command line the way vLLM's FlexibleArgumentParser reads it:
/// an optional leading <c>serve</c>, the model as first positional, <c>--flag value</c> and
/// <c>--flag=value</c>, underscores and dashes interchangeable in flag names. A token that does not
/// start with <c>--</c> after a flag is that flag's value (several for list flags such as
/// <c>--served-model-name a b</c>).
/// </summary>
internal static class VllmCommandLine
{
    /// <summary>Normalises a flag name: <c>--max_model_len</c> becomes <c>--max-model-len</c>.</summary>
    public static string Normalize(string flag) => "--" + flag.TrimStart('-').Replace('_', '-').ToLowerInvariant();

    /// <summary>
    /// Whether a token is a flag: <c>--name</c>, or a short flag such as <c>-tp</c> (a dash and a
    /// letter, so negative numbers such as <c>-1</c> stay values).
    /// </summary>
    public static bool IsFlag(string token) =>
        (token.StartsWith("--", StringComparison.Ordinal) && token.Length > 2)
        || (token.Length > 1 && token[0] == '-' && char.IsAsciiLetter(token[1]));

    /// <summary>Splits the arguments.</summary>
    /// <param name="args">The command line, without the program name.</param>
    /// <param name="arityOf">How many values a normalised flag takes (unknown flags: at most one).</param>
    /// <returns>The positional model and the flags.</returns>
    public static ParsedArguments Split(IReadOnlyList<string> args, Func<string, VllmFlagArity> arityOf)
    {
        var parsed = new ParsedArguments();
        var i = 0;
        if (args.Count > 0 && args[0] == VllmEngineArguments.ServeCommand)
        {
            i = 1;
        }

        while (i < args.Count)
        {
            var token = args[i];
            if (!IsFlag(token))
            {
                if (parsed.PositionalModel is not null)
                {
                    throw new SimulatorArgumentException("model_tag", $"unexpected extra positional argument '{token}'");
                }

                parsed.PositionalModel = token;
                i++;
                continue;
            }

            var equals = token.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                parsed.Add(Normalize(token[..equals]), [token[(equals + 1)..]]);
                i++;
                continue;
            }

            var flag = Normalize(token);
            var arity = arityOf(flag);
            var values = new List<string?>();
            i++;
            while (i < args.Count
                && !IsFlag(args[i])
                && (arity == VllmFlagArity.Many || (arity == VllmFlagArity.One && values.Count == 0)))
            {
                values.Add(args[i]);
                i++;
            }

            parsed.Add(flag, values);
        }

        return parsed;
    }
}
