using System.Text.RegularExpressions;

namespace PdApp.Hosting.Topology;

/// <summary>
/// The free-form engine environment (<c>Pd:Environment</c>, per role, per instance): merged with the
/// narrower scope winning, each variable remembering the setting it came from, and checked so it cannot
/// silently undo what the topology sets itself (connector variables, GPUs, secrets).
/// </summary>
public static partial class PdEngineEnvironment
{
    /// <summary>Variables owned by dedicated settings, and the setting to use instead.</summary>
    private static readonly Dictionary<string, string> OwnedBySetting = new(StringComparer.Ordinal)
    {
        ["CUDA_VISIBLE_DEVICES"] = "the instance's GpuIds (Pd:Prefill:Instances:{i}:GpuIds, Pd:Decode:Instances:{i}:GpuIds)",
        ["HF_TOKEN"] = "Pd:UseHuggingFaceToken with the secret parameter hf-token",
        ["HUGGING_FACE_HUB_TOKEN"] = "Pd:UseHuggingFaceToken with the secret parameter hf-token",
        ["VLLM_API_KEY"] = "Pd:UseApiKey with the secret parameter vllm-api-key",
        ["GLOO_SOCKET_IFNAME"] = "Pd:NetworkInterface",
        ["NCCL_SOCKET_IFNAME"] = "Pd:NetworkInterface",
    };

    /// <summary>
    /// The merged environment of one instance: <c>Pd:Environment</c>, then the role's, then the instance's.
    /// </summary>
    /// <param name="options">The options.</param>
    /// <param name="group">The instance's role group (<c>Pd:Prefill</c> or <c>Pd:Decode</c>).</param>
    /// <param name="groupPath">The group's configuration path, e.g. <c>Pd:Prefill</c>.</param>
    /// <param name="overrides">The instance's overrides.</param>
    /// <param name="instancePath">The instance's configuration path, e.g. <c>Pd:Prefill:Instances:0</c>.</param>
    /// <returns>Each variable with its value and the setting it came from.</returns>
    public static IReadOnlyDictionary<string, PdEngineVariable> Merge(
        PdOptions options, PdInstanceGroupOptions group, string groupPath, PdInstanceOptions overrides, string instancePath)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(overrides);
        var merged = new Dictionary<string, PdEngineVariable>(StringComparer.Ordinal);
        foreach (var (scope, variables) in new[]
        {
            ($"{PdOptions.SectionName}:Environment", options.Environment),
            ($"{groupPath}:Environment", group.Environment),
            ($"{instancePath}:Environment", overrides.Environment),
        })
        {
            foreach (var (name, value) in variables)
            {
                merged[name] = new PdEngineVariable(value ?? string.Empty, $"{scope}:{name}");
            }
        }

        return merged;
    }

    /// <summary>
    /// Adds a failure for every variable with an invalid name, owned by a dedicated setting, or set by the
    /// instance's KV connector (<paramref name="connectorVariables"/>).
    /// </summary>
    /// <param name="instance">The laid-out instance.</param>
    /// <param name="connectorName">The instance's connector, for messages.</param>
    /// <param name="connectorVariables">The variables the instance's connector sets.</param>
    /// <param name="failures">Where failures go.</param>
    public static void Validate(
        PdInstanceLayout instance, string connectorName, IReadOnlyDictionary<string, string> connectorVariables, ICollection<string> failures)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(connectorVariables);
        ArgumentNullException.ThrowIfNull(failures);
        foreach (var (name, variable) in instance.Environment)
        {
            if (!VariableName().IsMatch(name))
            {
                failures.Add($"{variable.Setting} is not a valid environment variable name (letters, digits and '_', not starting with a digit).");
            }
            else if (OwnedBySetting.TryGetValue(name, out var setting))
            {
                failures.Add($"{variable.Setting}: {name} is set by PdApp; use {setting} instead.");
            }
            else if (connectorVariables.ContainsKey(name))
            {
                failures.Add($"{variable.Setting}: {name} is set by the {connectorName} of {instance.Name}; change it through the Pd:{{Connector}} settings instead.");
            }
        }
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex VariableName();
}
