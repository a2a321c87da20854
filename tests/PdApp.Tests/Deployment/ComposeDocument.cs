using YamlDotNet.RepresentationModel;

namespace PdApp.Tests.Deployment;

/// <summary>A parsed compose.yaml, read back with YamlDotNet's representation model (scalar styles kept).</summary>
internal sealed class ComposeDocument
{
    private ComposeDocument(YamlMappingNode root) => Root = root;

    public YamlMappingNode Root { get; }

    public YamlMappingNode Services => (YamlMappingNode)Root["services"];

    public static ComposeDocument Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return new ComposeDocument((YamlMappingNode)stream.Documents.Single().RootNode);
    }

    public YamlMappingNode Service(string name) => (YamlMappingNode)Services[name];

    public IReadOnlyList<string> ServiceNames => [.. Services.Children.Keys.Select(k => ((YamlScalarNode)k).Value!)];
}

internal static class YamlNodes
{
    public static string Scalar(this YamlNode node, params string[] path) => ((YamlScalarNode)node.At(path)).Value!;

    public static bool Has(this YamlNode node, string key) => ((YamlMappingNode)node).Children.ContainsKey(key);

    public static YamlNode At(this YamlNode node, params string[] path)
    {
        foreach (var key in path)
        {
            node = ((YamlMappingNode)node)[key];
        }

        return node;
    }

    public static IReadOnlyList<string> Strings(this YamlNode node, params string[] path) =>
        [.. ((YamlSequenceNode)node.At(path)).Children.Select(c => ((YamlScalarNode)c).Value!)];

    public static IReadOnlyDictionary<string, string> Map(this YamlNode node, params string[] path) =>
        ((YamlMappingNode)node.At(path)).Children.ToDictionary(c => ((YamlScalarNode)c.Key).Value!, c => ((YamlScalarNode)c.Value).Value!);
}
