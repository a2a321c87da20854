using PdApp.Bench.Workloads;

namespace PdApp.Tests.Bench;

/// <summary>The workloads where KV-cache-aware routing matters: shared prefixes and multi-turn conversations.</summary>
public sealed class PrefixWorkloadTests
{
    [Fact]
    public void PrefixRepetition_SpreadsRequestsEvenlyOverThePrefixes_EachFollowedByItsOwnSuffix()
    {
        var requests = PrefixRepetitionDataset.Generate(new PrefixRepetitionOptions(PrefixTokens: 40, SuffixTokens: 10, NumPrefixes: 4, OutputTokens: 16), 100, seed: 1);

        var groups = requests.GroupBy(r => string.Join(' ', r.Prompt.Split(' ').Take(40))).ToArray();
        Assert.Equal(4, groups.Length);
        Assert.All(groups, group => Assert.Equal(25, group.Count()));
        Assert.All(requests, r =>
        {
            Assert.Equal(50, r.Prompt.Split(' ').Length);
            Assert.Equal(50, r.PromptTokens);
            Assert.Equal(16, r.MaxTokens);
        });
        Assert.Equal(100, requests.Select(r => r.Prompt).Distinct().Count());
    }

    [Fact]
    public void PrefixRepetition_IsShuffled_AndReproducibleFromTheSeed()
    {
        var options = new PrefixRepetitionOptions(30, 5, 3, 8);
        var requests = PrefixRepetitionDataset.Generate(options, 60, seed: 4);
        var prefixOf = requests.Select(r => string.Join(' ', r.Prompt.Split(' ').Take(30))).ToArray();

        // Not in generation order (prefix 0, 1, 2, 0, 1, 2, ...).
        Assert.Contains(Enumerable.Range(0, 59), i => prefixOf[i] == prefixOf[i + 1]);
        Assert.Equal(requests, PrefixRepetitionDataset.Generate(options, 60, seed: 4));
        Assert.NotEqual(requests[0].Prompt, PrefixRepetitionDataset.Generate(options, 60, seed: 5)[0].Prompt);
    }

    [Fact]
    public void MultiTurn_EachTurnExtendsThePreviousPromptWithAnAnswerAndANewMessage()
    {
        var options = new MultiTurnOptions(Turns: 3, SystemPromptTokens: 50, NumSystemPrompts: 2, UserTokens: 10, OutputTokens: 8, ActiveConversations: 4);
        var requests = MultiTurnDataset.Generate(options, 12, seed: 2).ToList();
        var firstTurnTokens = 50 + 10 + MultiTurnDataset.TagTokens;

        // Four conversations of three turns: every later turn is an earlier request's prompt, an
        // 8-word answer and a 10-word user message, sent within the next round (at most 7 requests later).
        Assert.Equal(4, requests.Count(r => r.PromptTokens == firstTurnTokens));
        for (var i = 0; i < requests.Count; i++)
        {
            var next = requests[i];
            if (next.PromptTokens == firstTurnTokens)
            {
                Assert.Matches(@"\n\nUser: (\S+ ){9}\S+\nAssistant:$", next.Prompt);
                continue;
            }

            var previous = Assert.Single(requests.Take(i), r => next.Prompt.StartsWith(r.Prompt + " ", StringComparison.Ordinal) && r.PromptTokens + 8 + 10 + MultiTurnDataset.TagTokens == next.PromptTokens);
            Assert.InRange(i - requests.IndexOf(previous), 1, 7);
            Assert.Matches(@"^(\S+ ){7}\S+\n\nUser: (\S+ ){9}\S+\nAssistant:$", next.Prompt[(previous.Prompt.Length + 1)..]);
        }

        Assert.All(requests, r => Assert.Equal(8, r.MaxTokens));
    }

    [Fact]
    public void MultiTurn_ConversationsDoNotFollowAFixedStride()
    {
        var options = new MultiTurnOptions(Turns: 10, SystemPromptTokens: 5, NumSystemPrompts: 1, UserTokens: 3, OutputTokens: 3, ActiveConversations: 4);
        var requests = MultiTurnDataset.Generate(options, 40, seed: 9).ToList();

        // A round-robin router over 4 instances sends request i to instance i mod 4: a conversation
        // must not land on one instance every turn by construction.
        var gaps = requests.Select((r, i) => (r, i)).Skip(4)
            .Select(x => x.i - requests.FindLastIndex(x.i - 1, p => x.r.Prompt.StartsWith(p.Prompt + " ", StringComparison.Ordinal)))
            .ToArray();
        Assert.Contains(gaps, gap => gap % 4 != 0);
    }

    [Fact]
    public void MultiTurn_StartsNewConversationsAfterTheLastTurn_SharingTheSystemPrompts()
    {
        var options = new MultiTurnOptions(Turns: 2, SystemPromptTokens: 30, NumSystemPrompts: 2, UserTokens: 5, OutputTokens: 5, ActiveConversations: 3);
        var requests = MultiTurnDataset.Generate(options, 60, seed: 3);

        // Turn 1 of a new conversation is as short as a first turn.
        var firstTurnTokens = 30 + 5 + MultiTurnDataset.TagTokens;
        Assert.Equal(30, requests.Count(r => r.PromptTokens == firstTurnTokens));
        Assert.Equal(30, requests.Count(r => r.PromptTokens > firstTurnTokens));
        var systems = requests.Select(r => string.Join(' ', r.Prompt.Split(' ').Take(30))).Distinct().ToArray();
        Assert.Equal(2, systems.Length);
        Assert.Equal(requests, MultiTurnDataset.Generate(options, 60, seed: 3));
    }

    [Fact]
    public async Task PromptOffset_SkipsPromptsOfTheSameSeededDataset()
    {
        var random = new RandomDatasetOptions(16, 8, 0);
        var repetition = new PrefixRepetitionOptions(20, 4, 2, 8);
        var all = await DatasetLoader.LoadAsync(new DatasetSpec(DatasetKind.PrefixRepetition, null, random, null, 30, 1, PrefixRepetition: repetition), CancellationToken.None);
        var later = await DatasetLoader.LoadAsync(new DatasetSpec(DatasetKind.PrefixRepetition, null, random, null, 10, 1, PrefixRepetition: repetition, Offset: 20), CancellationToken.None);

        Assert.Equal(10, later.Count);
        Assert.Equal(all[20], later[0]);
        Assert.Equal(all[29], later[9]);
    }

    [Fact]
    public async Task DatasetLoader_BuildsBothWorkloadsFromTheSpec()
    {
        var random = new RandomDatasetOptions(16, 8, 0);
        var repetition = await DatasetLoader.LoadAsync(new DatasetSpec(DatasetKind.PrefixRepetition, null, random, null, 10, 1, PrefixRepetition: new PrefixRepetitionOptions(20, 4, 2, 8)), CancellationToken.None);
        var multiTurn = await DatasetLoader.LoadAsync(new DatasetSpec(DatasetKind.MultiTurn, null, random, null, 10, 1, MultiTurn: new MultiTurnOptions(2, 20, 1, 4, 8, 2)), CancellationToken.None);

        Assert.Equal(10, repetition.Count);
        Assert.Equal(24, repetition[0].PromptTokens);
        Assert.Equal(10, multiTurn.Count);
        Assert.StartsWith(multiTurn[0].Prompt, multiTurn[2].Prompt, StringComparison.Ordinal);
    }
}
