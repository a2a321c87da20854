namespace PdApp.Tests.Architecture;

/// <summary>
/// The folders of every project under <c>src</c> show its architecture: no two top-level folders
/// depend on each other, directly or through others (read from each file's <c>using PdApp.*</c>
/// directives), and namespaces follow folders.
/// </summary>
public sealed class FolderDependencyTests
{
    public static TheoryData<string> Projects() => [.. SourceFolderGraph.Projects];

    [Theory]
    [MemberData(nameof(Projects))]
    public void TopLevelFolders_HaveNoDependencyCycle(string project)
    {
        var graph = SourceFolderGraph.Read(project);

        var cycles = graph.Cycles();

        Assert.True(cycles.Count == 0, $"{project} has folder cycles: " + string.Join("; ", cycles.Select(c => $"{{{string.Join(", ", c)}}} ({graph.Describe(c)})")));
    }

    [Theory]
    [InlineData("PdApp.Proxy")]
    [InlineData("PdApp.Simulator")]
    public void Namespaces_FollowFolders(string project) =>
        Assert.Empty(SourceFolderGraph.Read(project).NamespaceMismatches);

    [Fact]
    public void Cycles_AreFoundThroughIntermediateFolders()
    {
        // The detector itself: A -> B -> C -> A is one cycle, D -> A is not part of it.
        var graph = SourceFolderGraph.FromEdges(("A", "B"), ("B", "C"), ("C", "A"), ("D", "A"));

        var cycle = Assert.Single(graph.Cycles());

        Assert.Equal(["A", "B", "C"], cycle);
    }

    [Fact]
    public void Proxy_HasTheDocumentedTopLevelFolders()
    {
        var folders = Directory.EnumerateDirectories(Path.Combine(SourceFolderGraph.SourceRoot, "PdApp.Proxy"))
            .Select(Path.GetFileName)
            .Where(name => name is not ("bin" or "obj" or "Properties"))
            .Order(StringComparer.Ordinal);

        Assert.Equal(["Buffers", "Endpoints", "Memory", "Messaging", "Observability", "Pipeline", "Routing", "Security"], folders);
    }
}
