using System.Text.Json;
using PdApp.Bench.Workloads;

namespace PdApp.Tests.Bench;

public sealed class DatasetTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("pdapp-bench-tests-");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public void RandomPrompts_HaveLengthsWithinTheRangeAndUseIt()
    {
        var requests = RandomDataset.Generate(new RandomDatasetOptions(InputTokens: 100, OutputTokens: 50, RangeRatio: 0.5), 2000, seed: 1);

        Assert.All(requests, request =>
        {
            Assert.InRange(request.PromptTokens, 50, 150);
            Assert.InRange(request.MaxTokens, 25, 75);
            Assert.Equal(request.PromptTokens, request.Prompt.Split(' ').Length);
        });
        Assert.InRange(requests.Min(r => r.PromptTokens), 50, 55);
        Assert.InRange(requests.Max(r => r.PromptTokens), 145, 150);
        Assert.InRange(requests.Average(r => r.PromptTokens), 97, 103);
    }

    [Fact]
    public void RandomPrompts_WithZeroRange_HaveExactLengths()
    {
        var requests = RandomDataset.Generate(new RandomDatasetOptions(32, 8, 0), 20, seed: 3);

        Assert.All(requests, request =>
        {
            Assert.Equal(32, request.PromptTokens);
            Assert.Equal(8, request.MaxTokens);
        });
    }

    [Fact]
    public void RandomPrompts_AreReproducibleFromTheSeedAndDifferAcrossSeeds()
    {
        var options = new RandomDatasetOptions(64, 16, 0.3);

        Assert.Equal(RandomDataset.Generate(options, 50, seed: 7), RandomDataset.Generate(options, 50, seed: 7));
        Assert.NotEqual(RandomDataset.Generate(options, 50, seed: 7)[0].Prompt, RandomDataset.Generate(options, 50, seed: 8)[0].Prompt);
    }

    [Fact]
    public void SkewedSharedPrefixes_MakeTheFirstPrefixTheMostPopular()
    {
        var options = new RandomDatasetOptions(16, 8, 0, PrefixTokens: 20, PrefixGroups: 4, PrefixSkew: 1.5);
        var requests = RandomDataset.Generate(options, 1000, seed: 5);

        var groups = requests.GroupBy(r => string.Join(' ', r.Prompt.Split(' ').Take(20))).OrderByDescending(g => g.Count()).ToArray();
        Assert.Equal(4, groups.Length);
        Assert.InRange(groups[0].Count(), 500, 700);    // Zipf(1.5) over 4 groups: about 59%
        Assert.All(requests, r => Assert.Equal(36, r.PromptTokens));
    }

    [Fact]
    public async Task Jsonl_ReadsPromptsAndPerLineOutputLengths()
    {
        var path = Write("prompts.jsonl", """
            {"prompt": "hello world", "max_tokens": 7}

            {"prompt": "second prompt here"}
            """);

        var requests = await JsonlDataset.LoadAsync(path, defaultMaxTokens: 32, limit: 10, CancellationToken.None);

        Assert.Equal(2, requests.Count);
        Assert.Equal(new BenchRequest("hello world", 3, 7), requests[0]);
        Assert.Equal(32, requests[1].MaxTokens);
    }

    [Fact]
    public async Task Jsonl_MalformedLine_FailsNamingTheLine()
    {
        var path = Write("bad.jsonl", "{\"prompt\": \"ok\"}\n{\"text\": \"no prompt\"}\n");

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => JsonlDataset.LoadAsync(path, 16, 10, CancellationToken.None));

        Assert.Contains(":2:", error.Message);
    }

    [Fact]
    public async Task ShareGpt_UsesFirstTwoTurnsFiltersShortPairsAndShufflesBySeed()
    {
        var conversations = Enumerable.Range(0, 20).Select(i => new
        {
            id = $"c{i}",
            conversations = new[]
            {
                new { from = "human", value = $"question number {i} with enough words to pass" },
                new { from = "gpt", value = $"answer number {i} " + new string('a', 40 * (i + 1)) },
            },
        }).Cast<object>().Append(new { id = "short", conversations = new[] { new { from = "human", value = "hi" }, new { from = "gpt", value = "hello there, a long enough answer" } } })
          .Append(new { id = "single", conversations = new[] { new { from = "human", value = "only one turn in this conversation" } } });
        var path = Write("sharegpt.json", JsonSerializer.Serialize(conversations));

        var first = await ShareGptDataset.LoadAsync(path, fixedOutputTokens: null, count: 100, seed: 1, CancellationToken.None);
        var again = await ShareGptDataset.LoadAsync(path, fixedOutputTokens: null, count: 100, seed: 1, CancellationToken.None);
        var fixedLength = await ShareGptDataset.LoadAsync(path, fixedOutputTokens: 12, count: 5, seed: 2, CancellationToken.None);

        Assert.Equal(20, first.Count);
        Assert.DoesNotContain(first, r => r.Prompt == "hi");
        Assert.Equal(first, again);
        Assert.NotEqual(Enumerable.Range(0, 20).Select(i => $"question number {i} with enough words to pass"), first.Select(r => r.Prompt));
        var answer = first.Single(r => r.Prompt.StartsWith("question number 3 ", StringComparison.Ordinal));
        Assert.Equal(TokenEstimator.Estimate("answer number 3 " + new string('a', 160)), answer.MaxTokens);
        Assert.Equal(5, fixedLength.Count);
        Assert.All(fixedLength, r => Assert.Equal(12, r.MaxTokens));
    }

    [Fact]
    public async Task ShareGpt_NotAnArray_FailsWithTheFileName()
    {
        var path = Write("notsharegpt.json", """{"conversations": []}""");

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => ShareGptDataset.LoadAsync(path, null, 10, 0, CancellationToken.None));

        Assert.Contains("notsharegpt.json", error.Message);
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_folder.FullName, name);
        File.WriteAllText(path, content);
        return path;
    }
}
