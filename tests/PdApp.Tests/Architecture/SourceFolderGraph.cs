using System.Text.RegularExpressions;

namespace PdApp.Tests.Architecture;

/// <summary>
/// The dependency graph between one project's top-level folders, read from its sources: a file in
/// folder A that has <c>using Project.B...;</c> is an edge A -> B. The file's folder (not its
/// namespace) is the node, so extension classes declared in framework namespaces still count.
/// </summary>
internal sealed partial class SourceFolderGraph
{
    /// <summary>The node of files directly in the project folder.</summary>
    public const string Root = "<root>";

    private SourceFolderGraph(string project, IReadOnlyDictionary<string, SortedSet<string>> edges, IReadOnlyList<string> namespaceMismatches)
    {
        Project = project;
        Edges = edges;
        NamespaceMismatches = namespaceMismatches;
    }

    /// <summary>The project's name (its root namespace).</summary>
    public string Project { get; }

    /// <summary>Folder -> the folders its files use.</summary>
    public IReadOnlyDictionary<string, SortedSet<string>> Edges { get; }

    /// <summary>Files whose <c>PdApp.*</c> namespace does not follow their folder.</summary>
    public IReadOnlyList<string> NamespaceMismatches { get; }

    /// <summary>A graph of the given edges (tests of the cycle detector).</summary>
    /// <param name="edges">The edges.</param>
    /// <returns>The graph.</returns>
    public static SourceFolderGraph FromEdges(params (string From, string To)[] edges) =>
        new(
            "test",
            edges.GroupBy(e => e.From).ToDictionary(g => g.Key, g => new SortedSet<string>(g.Select(e => e.To), StringComparer.Ordinal), StringComparer.Ordinal),
            []);

    /// <summary>The repository's <c>src</c> folder, found from the test assembly's location.</summary>
    public static string SourceRoot
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "PdApp.sln")) && Directory.Exists(Path.Combine(directory.FullName, "src")))
                {
                    return Path.Combine(directory.FullName, "src");
                }
            }

            throw new InvalidOperationException("The repository root (PdApp.sln) was not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>The projects under <c>src</c>.</summary>
    public static IEnumerable<string> Projects =>
        Directory.EnumerateFiles(SourceRoot, "*.csproj", SearchOption.AllDirectories)
            .Select(path => Path.GetFileNameWithoutExtension(path))
            .Order(StringComparer.Ordinal);

    /// <summary>Reads <paramref name="project"/>'s sources.</summary>
    /// <param name="project">The project (folder and root namespace).</param>
    /// <returns>The graph.</returns>
    public static SourceFolderGraph Read(string project)
    {
        var root = Path.Combine(SourceRoot, project);
        var edges = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        var mismatches = new List<string>();
        foreach (var file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
            if (relative.StartsWith("bin/", StringComparison.Ordinal) || relative.StartsWith("obj/", StringComparison.Ordinal))
            {
                continue;
            }

            var folders = relative.Split('/')[..^1];
            var node = folders.Length == 0 ? Root : folders[0];
            var text = File.ReadAllText(file);
            var declared = NamespacePattern().Match(text);
            if (declared.Success && declared.Groups[1].Value.StartsWith("PdApp.", StringComparison.Ordinal))
            {
                var expected = string.Join('.', [project, .. folders]);
                if (declared.Groups[1].Value != expected)
                {
                    mismatches.Add($"{relative}: namespace {declared.Groups[1].Value}, expected {expected}");
                }
            }

            foreach (Match used in UsingPattern().Matches(text))
            {
                var target = TopFolderOf(used.Groups[1].Value, project);
                if (target is not null && target != node)
                {
                    if (!edges.TryGetValue(node, out var targets))
                    {
                        edges[node] = targets = new SortedSet<string>(StringComparer.Ordinal);
                    }

                    targets.Add(target);
                }
            }
        }

        return new SourceFolderGraph(project, edges, mismatches);
    }

    /// <summary>Every cycle's folders (strongly connected components of two or more folders).</summary>
    /// <returns>The cycles, each as its folders in order; empty when the graph is acyclic.</returns>
    public IReadOnlyList<IReadOnlyList<string>> Cycles()
    {
        // Tarjan's algorithm: a component of more than one node is a cycle.
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var low = new Dictionary<string, int>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        var onStack = new HashSet<string>(StringComparer.Ordinal);
        var cycles = new List<IReadOnlyList<string>>();
        var next = 0;

        foreach (var node in Edges.Keys.Order(StringComparer.Ordinal))
        {
            if (!index.ContainsKey(node))
            {
                Visit(node);
            }
        }

        return cycles;

        void Visit(string node)
        {
            index[node] = low[node] = next++;
            stack.Push(node);
            onStack.Add(node);
            foreach (var target in Edges.TryGetValue(node, out var targets) ? targets : [])
            {
                if (!index.ContainsKey(target))
                {
                    Visit(target);
                    low[node] = Math.Min(low[node], low[target]);
                }
                else if (onStack.Contains(target))
                {
                    low[node] = Math.Min(low[node], index[target]);
                }
            }

            if (low[node] == index[node])
            {
                var component = new List<string>();
                string member;
                do
                {
                    member = stack.Pop();
                    onStack.Remove(member);
                    component.Add(member);
                }
                while (member != node);

                if (component.Count > 1)
                {
                    component.Sort(StringComparer.Ordinal);
                    cycles.Add(component);
                }
            }
        }
    }

    /// <summary>Writes the edges inside <paramref name="cycle"/>, for the failure message.</summary>
    /// <param name="cycle">A cycle's folders.</param>
    /// <returns>One <c>A -> B</c> per edge.</returns>
    public string Describe(IReadOnlyList<string> cycle) =>
        string.Join(", ", cycle.SelectMany(from => Edges.TryGetValue(from, out var targets)
            ? targets.Where(cycle.Contains).Select(to => $"{from} -> {to}")
            : []));

    private static string? TopFolderOf(string usedNamespace, string project)
    {
        if (usedNamespace == project)
        {
            return Root;
        }

        return usedNamespace.StartsWith(project + ".", StringComparison.Ordinal)
            ? usedNamespace[(project.Length + 1)..].Split('.')[0]
            : null;
    }

    [GeneratedRegex(@"^\s*namespace\s+([\w.]+)", RegexOptions.Multiline)]
    private static partial Regex NamespacePattern();

    [GeneratedRegex(@"^\s*(?:global\s+)?using\s+(?:static\s+)?([\w.]+)\s*;", RegexOptions.Multiline)]
    private static partial Regex UsingPattern();
}
