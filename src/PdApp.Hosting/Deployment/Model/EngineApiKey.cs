namespace PdApp.Hosting.Deployment.Model;

/// <summary>
/// Moves an engine's <c>--api-key &lt;secret&gt;</c> from its command line to the environment variable vLLM reads
/// when the flag is absent (<c>VLLM_API_KEY</c>, vllm/envs.py; the OpenAI server takes <c>args.api_key or
/// envs.VLLM_API_KEY</c>). A key on the command line is visible to every process on the host (<c>ps</c>,
/// <c>/proc/*/cmdline</c>) and in <c>docker inspect</c>/<c>kubectl describe</c> of the args; in the environment it
/// comes from <c>.env</c> or a Secret.
/// </summary>
internal static class EngineApiKey
{
    /// <summary>The flag.</summary>
    public const string Flag = "--api-key";

    /// <summary>The variable vLLM reads.</summary>
    public const string Variable = "VLLM_API_KEY";

    /// <summary>The arguments without the flag and its value, and the environment with the key added.</summary>
    public static (List<DeploymentValue> Args, List<KeyValuePair<string, DeploymentValue>> Environment) MoveToEnvironment(
        List<DeploymentValue> args, List<KeyValuePair<string, DeploymentValue>> environment)
    {
        var index = args.FindIndex(a => a.Parts is [LiteralPart { Text: Flag }]);
        if (index < 0 || index + 1 >= args.Count)
        {
            return (args, environment);
        }

        var key = args[index + 1];
        List<DeploymentValue> remaining = [.. args.Take(index), .. args.Skip(index + 2)];
        List<KeyValuePair<string, DeploymentValue>> withKey = [.. environment.Where(e => e.Key != Variable), new(Variable, key)];
        return (remaining, withKey);
    }
}
