using System.Globalization;
using PdApp.Protocol.Connectors;
using PdApp.Simulator.Configuration;
using PdApp.Simulator.Hosting;
using YamlDotNet.RepresentationModel;

namespace PdApp.Simulator.KvTransfer.Connectors;

/// <summary>
/// The LMCache settings PD needs, read as LMCache reads its config: the yaml file named by
/// <c>LMCACHE_CONFIG_FILE</c> when set, else <c>LMCACHE_&lt;UPPER_KEY&gt;</c> variables
/// (vLLM's examples/others/lmcache/disagg_prefill_lmcache_v1 configs: <c>enable_nixl</c>,
/// <c>nixl_role</c>, <c>nixl_receiver_host</c>, <c>nixl_receiver_port</c>, <c>nixl_buffer_size</c>,
/// <c>nixl_buffer_device</c>).
/// </summary>
internal sealed record LmCacheSettings
{
    /// <summary><c>enable_nixl</c>: PD transfer between a sender and a receiver.</summary>
    public bool EnableNixl { get; init; }

    /// <summary><c>nixl_role</c>: <c>sender</c> (prefill) or <c>receiver</c> (decode).</summary>
    public string? NixlRole { get; init; }

    /// <summary><c>nixl_receiver_host</c>.</summary>
    public string ReceiverHost { get; init; } = "localhost";

    /// <summary><c>nixl_receiver_port</c>.</summary>
    public int ReceiverPort { get; init; } = 55555;

    /// <summary>Where the settings came from (for logs).</summary>
    public required string Source { get; init; }

    /// <summary>Reads the settings.</summary>
    /// <exception cref="SimulatorArgumentException">The file or a value is invalid (names the setting).</exception>
    public static LmCacheSettings Read(SimulatorEnvironment environment)
    {
        var file = environment.Get("LMCACHE_CONFIG_FILE");
        var values = file is null ? FromEnvironment(environment) : FromYaml(file);
        var source = file ?? "LMCACHE_* environment";
        var role = Get(values, "nixl_role")?.ToLowerInvariant();
        if (role is not (null or "sender" or "receiver"))
        {
            throw new SimulatorArgumentException(Name(file, "nixl_role"), $"must be sender or receiver, not '{role}'");
        }

        var settings = new LmCacheSettings
        {
            EnableNixl = Bool(values, "enable_nixl", file),
            NixlRole = role,
            ReceiverHost = Get(values, "nixl_receiver_host") ?? "localhost",
            ReceiverPort = Port(values, "nixl_receiver_port", file) ?? 55555,
            Source = source,
        };
        if (settings.EnableNixl && settings.NixlRole is null)
        {
            throw new SimulatorArgumentException(Name(file, "nixl_role"), "is required when enable_nixl is true");
        }

        return settings;
    }

    private static Dictionary<string, string> FromEnvironment(SimulatorEnvironment environment) =>
        environment.WithPrefix(KvConnectorEnvironment.LMCachePrefix).ToDictionary(
            pair => pair.Key[KvConnectorEnvironment.LMCachePrefix.Length..].ToLowerInvariant(),
            pair => pair.Value,
            StringComparer.Ordinal);

    private static Dictionary<string, string> FromYaml(string file)
    {
        try
        {
            using var reader = File.OpenText(file);
            var yaml = new YamlStream();
            yaml.Load(reader);
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            if (yaml.Documents.Count > 0 && yaml.Documents[0].RootNode is YamlMappingNode root)
            {
                foreach (var (key, value) in root.Children)
                {
                    if (key is YamlScalarNode { Value: { } name } && value is YamlScalarNode { Value: { } text })
                    {
                        values[name] = text;
                    }
                }
            }

            return values;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or YamlDotNet.Core.YamlException)
        {
            throw new SimulatorArgumentException("LMCACHE_CONFIG_FILE", $"cannot read '{file}': {ex.Message}", ex);
        }
    }

    private static string? Get(Dictionary<string, string> values, string key) => values.TryGetValue(key, out var value) && value.Length > 0 ? value : null;

    private static string Name(string? file, string key) => file is null ? KvConnectorEnvironment.LMCachePrefix + key.ToUpperInvariant() : $"{file}: {key}";

    private static bool Bool(Dictionary<string, string> values, string key, string? file) => Get(values, key) switch
    {
        null => false,
        var text when text.Equals("true", StringComparison.OrdinalIgnoreCase) || text == "1" => true,
        var text when text.Equals("false", StringComparison.OrdinalIgnoreCase) || text == "0" => false,
        var text => throw new SimulatorArgumentException(Name(file, key), $"invalid boolean '{text}'"),
    };

    private static int? Port(Dictionary<string, string> values, string key, string? file) => Get(values, key) switch
    {
        null => null,
        var text when int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var port) && port is >= 0 and <= 65535 => port,
        var text => throw new SimulatorArgumentException(Name(file, key), $"invalid port '{text}'"),
    };
}
