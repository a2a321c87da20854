using System.Globalization;
using PdApp.Protocol.LMCache;
using PdApp.Simulator.Configuration;
using YamlDotNet.RepresentationModel;

namespace PdApp.Simulator.KvTransfer.Connectors;

/// <summary>
/// The LMCache 0.3.x settings PD needs, read as LMCache reads its config (lmcache/v1/config.py): the yaml file
/// named by <c>LMCACHE_CONFIG_FILE</c> when set, else <c>LMCACHE_&lt;UPPER_KEY&gt;</c> variables for the defined keys
/// (<see cref="LMCacheConfigKeys"/>); lists are yaml sequences or comma-separated text. Checked as LMCache's
/// <c>_validate_config</c> and <c>PDConfig.from_cache_engine_config</c> assert: with <c>enable_pd</c>, a role, a
/// buffer size and device, the <c>nixl</c> channel, the receiver's host and ports, the sender's proxy.
/// </summary>
internal sealed record LmCacheSettings
{
    /// <summary><c>enable_pd</c>: PD transfer between a sender and a receiver.</summary>
    public bool EnablePd { get; init; }

    /// <summary><c>pd_role</c>: <c>sender</c> (prefill) or <c>receiver</c> (decode).</summary>
    public string? PdRole { get; init; }

    /// <summary><c>pd_peer_host</c> (receiver): where it binds.</summary>
    public string? PeerHost { get; init; }

    /// <summary><c>pd_peer_alloc_port</c> (receiver): one per rank; rank 0's receives the simulated transfer.</summary>
    public IReadOnlyList<int> PeerAllocPorts { get; init; } = [];

    /// <summary><c>pd_peer_init_port</c> (receiver): one per rank (NIXL's handshake, not simulated).</summary>
    public IReadOnlyList<int> PeerInitPorts { get; init; } = [];

    /// <summary><c>pd_proxy_host</c> (sender).</summary>
    public string? ProxyHost { get; init; }

    /// <summary><c>pd_proxy_port</c> (sender).</summary>
    public int ProxyPort { get; init; }

    /// <summary>Where the settings came from (for logs).</summary>
    public required string Source { get; init; }

    /// <summary>Whether this is the PD sender.</summary>
    public bool IsSender => EnablePd && PdRole == LMCacheConfigKeys.SenderRole;

    /// <summary>Whether this is the PD receiver.</summary>
    public bool IsReceiver => EnablePd && PdRole == LMCacheConfigKeys.ReceiverRole;

    /// <summary>Reads the settings.</summary>
    /// <exception cref="SimulatorArgumentException">The file or a value is invalid (names the setting).</exception>
    public static LmCacheSettings Read(SimulatorEnvironment environment)
    {
        var file = environment.Get(LMCacheConfigKeys.ConfigFileVariable);
        var values = file is null ? FromEnvironment(environment) : FromYaml(file);
        var reader = new Reader(values, file);
        var settings = new LmCacheSettings
        {
            EnablePd = reader.Bool(LMCacheConfigKeys.EnablePd),
            PdRole = reader.Text(LMCacheConfigKeys.PdRole)?.ToLowerInvariant(),
            PeerHost = reader.Text(LMCacheConfigKeys.PdPeerHost),
            PeerInitPorts = reader.Ports(LMCacheConfigKeys.PdPeerInitPort),
            PeerAllocPorts = reader.Ports(LMCacheConfigKeys.PdPeerAllocPort),
            ProxyHost = reader.Text(LMCacheConfigKeys.PdProxyHost),
            ProxyPort = reader.Ports(LMCacheConfigKeys.PdProxyPort) is [var port] ? port : 0,
            Source = file ?? "LMCACHE_* environment",
        };
        if (settings.EnablePd)
        {
            reader.Validate(settings);
        }

        return settings;
    }

    private static Dictionary<string, string> FromEnvironment(SimulatorEnvironment environment) =>
        environment.WithPrefix(LMCacheConfigKeys.EnvironmentPrefix).ToDictionary(
            pair => pair.Key[LMCacheConfigKeys.EnvironmentPrefix.Length..].ToLowerInvariant(),
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
                    if (key is not YamlScalarNode { Value: { } name })
                    {
                        continue;
                    }

                    if (value is YamlScalarNode { Value: { } text })
                    {
                        values[name] = text;
                    }
                    else if (value is YamlSequenceNode sequence)
                    {
                        values[name] = string.Join(',', sequence.Children.OfType<YamlScalarNode>().Select(n => n.Value));
                    }
                }
            }

            return values;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or YamlDotNet.Core.YamlException)
        {
            throw new SimulatorArgumentException(LMCacheConfigKeys.ConfigFileVariable, $"cannot read '{file}': {ex.Message}", ex);
        }
    }

    private sealed class Reader(Dictionary<string, string> values, string? file)
    {
        public string? Text(string key) => values.TryGetValue(key, out var value) && value.Length > 0 ? value : null;

        public string Name(string key) => file is null ? LMCacheConfigKeys.EnvironmentName(key) : $"{file}: {key}";

        // LMCache's _to_bool: true when the text is "true" or "1" (any case); anything else is false.
        public bool Bool(string key) => Text(key) is { } text && (text.Equals("true", StringComparison.OrdinalIgnoreCase) || text == "1");

        public IReadOnlyList<int> Ports(string key)
        {
            if (Text(key) is not { } text)
            {
                return [];
            }

            var ports = new List<int>();
            foreach (var part in text.Trim('[', ']').Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var port) || port is < 0 or > 65535)
                {
                    throw new SimulatorArgumentException(Name(key), $"invalid port '{part}' in '{text}'");
                }

                ports.Add(port);
            }

            return ports;
        }

        public void Validate(LmCacheSettings settings)
        {
            if (settings.PdRole is not (LMCacheConfigKeys.SenderRole or LMCacheConfigKeys.ReceiverRole))
            {
                throw new SimulatorArgumentException(Name(LMCacheConfigKeys.PdRole), $"must be sender or receiver when enable_pd is true, not '{settings.PdRole}'");
            }

            foreach (var key in new[] { LMCacheConfigKeys.PdBufferSize, LMCacheConfigKeys.PdBufferDevice })
            {
                if (Text(key) is null)
                {
                    throw new SimulatorArgumentException(Name(key), "is required when enable_pd is true");
                }
            }

            if (Text(LMCacheConfigKeys.TransferChannel) is var channel && !string.Equals(channel, LMCacheConfigKeys.NixlChannel, StringComparison.Ordinal))
            {
                throw new SimulatorArgumentException(Name(LMCacheConfigKeys.TransferChannel), $"must be nixl (the PD backend's only channel), not '{channel}'");
            }

            if (settings.IsReceiver)
            {
                Require(settings.PeerHost is not null, LMCacheConfigKeys.PdPeerHost);
                Require(settings.PeerInitPorts.Count > 0, LMCacheConfigKeys.PdPeerInitPort);
                Require(settings.PeerAllocPorts.Count > 0, LMCacheConfigKeys.PdPeerAllocPort);
            }
            else
            {
                Require(settings.ProxyHost is not null, LMCacheConfigKeys.PdProxyHost);
                Require(settings.ProxyPort > 0, LMCacheConfigKeys.PdProxyPort);
            }
        }

        private void Require(bool present, string key)
        {
            if (!present)
            {
                throw new SimulatorArgumentException(Name(key), "is required for this pd_role");
            }
        }
    }
}
