using System.Text.Json;

namespace PdApp.Proxy.Pipeline.Forwarding;

/// <summary>JSON settings for bodies the proxy writes itself (OpenAI's snake_case names come from attributes).</summary>
internal static class ProxyJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web);
}
