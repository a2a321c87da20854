using System.Text.Json;

namespace PdApp.Bench.Workloads;

/// <summary>
/// Prompts from a JSON Lines file, one object per line: <c>{"prompt": "...", "max_tokens": 128}</c>
/// (<c>max_tokens</c> optional; <c>output_tokens</c> is accepted as a synonym). Blank lines are
/// skipped; a malformed line fails the load with its line number.
/// </summary>
internal static class JsonlDataset
{
    /// <summary>Loads up to <paramref name="limit"/> prompts.</summary>
    /// <param name="path">The file.</param>
    /// <param name="defaultMaxTokens">Output length for lines without one.</param>
    /// <param name="limit">Most prompts to read.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <exception cref="InvalidDataException">A line is not a JSON object with a string <c>prompt</c>.</exception>
    public static async Task<IReadOnlyList<BenchRequest>> LoadAsync(
        string path,
        int defaultMaxTokens,
        int limit,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var requests = new List<BenchRequest>();
        using var reader = new StreamReader(path);
        var lineNumber = 0;
        while (requests.Count < limit && await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            requests.Add(ParseLine(line, lineNumber, path, defaultMaxTokens));
        }

        if (requests.Count == 0)
        {
            throw new InvalidDataException($"{path}: no prompts found.");
        }

        return requests;
    }

    private static BenchRequest ParseLine(string line, int lineNumber, string path, int defaultMaxTokens)
    {
        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("prompt", out var prompt)
                || prompt.ValueKind != JsonValueKind.String)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: expected an object with a string \"prompt\".");
            }

            var maxTokens = TryGetPositiveInt(root, "max_tokens") ?? TryGetPositiveInt(root, "output_tokens") ?? defaultMaxTokens;
            var text = prompt.GetString()!;
            return new BenchRequest(text, TokenEstimator.Estimate(text), maxTokens);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}:{lineNumber}: invalid JSON ({e.Message}).", e);
        }
    }

    private static int? TryGetPositiveInt(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && number > 0
            ? number
            : null;
}
