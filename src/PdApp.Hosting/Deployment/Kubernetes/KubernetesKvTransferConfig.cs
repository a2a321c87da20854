using System.Text.Json;
using System.Text.Json.Nodes;
using PdApp.Hosting.Deployment.Model;
using PdApp.Protocol;
using PdApp.Protocol.Connectors;

namespace PdApp.Hosting.Deployment.Kubernetes;

/// <summary>
/// Reads and rewrites the <c>--kv-transfer-config</c> argument for a cluster. On one host the model gives
/// <c>proxy_ip</c> (P2pNccl: where instances register, vllm/distributed/kv_transfer/kv_connector/v1/p2p/p2p_nccl_engine.py)
/// and <c>kv_ip</c> (PyNccl: the rank-0 rendezvous, vllm/distributed/kv_transfer/kv_pipe/pynccl_pipe.py) as
/// container names or the host's address; in a cluster they become the proxy's Service and the rank-0 pod's
/// stable DNS name. Nested connectors (MultiConnector's children) are rewritten too.
/// </summary>
internal static class KubernetesKvTransferConfig
{
    private const string ProxyIpKey = KvConnectorExtraConfigKeys.ProxyIp;
    private const string KvIpKey = "kv_ip";
    private const string KvRankKey = "kv_rank";
    private const string KvConnectorKey = "kv_connector";

    /// <summary>Whether the engine's KV config gives it a fixed rank (<c>kv_rank</c>).</summary>
    public static bool HasRank(IEnumerable<DeploymentValue> args) =>
        args.Select(TryParse).Any(config => config is not null && Find(config, KvRankKey).Any());

    /// <summary>Every <c>kv_connector</c> the engine's KV config names (MultiConnector's children included).</summary>
    public static IReadOnlyList<string> Connectors(IEnumerable<DeploymentValue> args) =>
        [.. args.Select(TryParse)
            .Where(config => config is not null)
            .SelectMany(config => Find(config!, KvConnectorKey))
            .OfType<JsonValue>()
            .Select(node => node.TryGetValue<string>(out var name) ? name : null)
            .OfType<string>()];

    /// <summary>The engine's <c>kv_rank</c>, if its KV config has one.</summary>
    public static int? Rank(IEnumerable<DeploymentValue> args) =>
        args.Select(TryParse)
            .Where(config => config is not null)
            .SelectMany(config => Find(config!, KvRankKey))
            .Select(node => (int?)node.GetValue<int>())
            .FirstOrDefault();

    /// <summary>
    /// Rewrites <paramref name="arg"/> if it is the KV config: <c>proxy_ip</c> becomes <paramref name="proxyHost"/>
    /// and <c>kv_ip</c> <paramref name="rendezvousHost"/> (when given). Other arguments come back unchanged.
    /// </summary>
    public static DeploymentValue Rewrite(DeploymentValue arg, string proxyHost, string? rendezvousHost)
    {
        if (TryParse(arg) is not { } config)
        {
            return arg;
        }

        var changed = false;
        foreach (var owner in Objects(config).ToList())
        {
            if (owner.ContainsKey(ProxyIpKey))
            {
                owner[ProxyIpKey] = proxyHost;
                changed = true;
            }

            if (rendezvousHost is not null && owner.ContainsKey(KvIpKey))
            {
                owner[KvIpKey] = rendezvousHost;
                changed = true;
            }
        }

        return changed ? DeploymentValue.Literal(config.ToJsonString(KvTransferConfig.SerializerOptions)) : arg;
    }

    private static JsonObject? TryParse(DeploymentValue value)
    {
        if (value.Parts is not [LiteralPart { Text: var text }] || !text.StartsWith('{'))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(text) is JsonObject config && config.ContainsKey(KvConnectorKey) ? config : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static IEnumerable<JsonNode> Find(JsonObject config, string key) =>
        Objects(config).Select(o => o[key]).OfType<JsonNode>();

    private static IEnumerable<JsonObject> Objects(JsonNode node)
    {
        switch (node)
        {
            case JsonObject obj:
                yield return obj;
                foreach (var child in obj.Select(p => p.Value).OfType<JsonNode>().SelectMany(Objects))
                {
                    yield return child;
                }

                break;
            case JsonArray array:
                foreach (var child in array.OfType<JsonNode>().SelectMany(Objects))
                {
                    yield return child;
                }

                break;
        }
    }
}
