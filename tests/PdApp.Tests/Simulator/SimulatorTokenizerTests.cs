using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PdApp.Simulator.Generation;

namespace PdApp.Tests.Simulator;

/// <summary>
/// The simulator counts tokens with the served model's tokenizer files when the model (or
/// <c>--tokenizer</c>) directory holds them, as vLLM does, and falls back to GPT-2 otherwise.
/// </summary>
public sealed class SimulatorTokenizerTests : IDisposable
{
    /// <summary>Qwen2's split pattern: digits one at a time, unlike GPT-2's <c> ?\p{N}+</c>.</summary>
    private const string QwenPattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private readonly string _directory = Directory.CreateTempSubdirectory("pdsim-tokenizer-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void TokenizerJson_WithQwenSplit_EncodesDigitsOneByOne()
    {
        WriteTokenizerJson(QwenPattern, mergesAsArrays: false);

        var loaded = ModelTokenizerLoader.Load(_directory);

        Assert.False(loaded.IsFallback);
        Assert.Contains("tokenizer.json", loaded.Description);
        var tokenizer = new PromptTokenizer(loaded);
        Assert.Equal([2, 4, 5, 6, 5, 6], tokenizer.Encode("ab ab1212"));
        Assert.Equal("ab ab1212", tokenizer.Decode([2, 4, 5, 6, 5, 6]));
    }

    [Fact]
    public void TokenizerJson_WithArrayMergesAndGpt2ByteLevel_MergesDigitRuns()
    {
        WriteTokenizerJson(pattern: null, mergesAsArrays: true);

        var tokenizer = new PromptTokenizer(ModelTokenizerLoader.Load(_directory));

        // GPT-2's pattern keeps "1212" whole, so the "1 2" and "12 12" merges apply.
        Assert.Equal([2, 4, 8], tokenizer.Encode("ab ab1212"));
    }

    [Fact]
    public void TokenizerJson_AddedTokens_AreSingleTokens()
    {
        WriteTokenizerJson(QwenPattern, mergesAsArrays: false);

        var tokenizer = new PromptTokenizer(ModelTokenizerLoader.Load(_directory));

        Assert.Equal([9, 2, 9], tokenizer.Encode("<|im_start|>ab<|im_start|>"));
    }

    [Fact]
    public void SentencePieceTokenizerJson_FallsBackToGpt2_SayingWhy()
    {
        File.WriteAllText(Path.Combine(_directory, ModelTokenizerLoader.TokenizerJsonFile),
            """{"model":{"type":"BPE","byte_fallback":true,"vocab":{},"merges":[]},"pre_tokenizer":{"type":"Metaspace"}}""");

        var loaded = ModelTokenizerLoader.Load(_directory);

        Assert.True(loaded.IsFallback);
        Assert.Contains("byte-fallback", loaded.Description);
    }

    [Fact]
    public void ModelThatIsNotADirectory_FallsBackToGpt2()
    {
        var loaded = ModelTokenizerLoader.Load("Qwen/Qwen2.5-7B-Instruct");

        Assert.True(loaded.IsFallback);
        Assert.StartsWith("GPT-2", loaded.Description);
        Assert.Equal([15496, 995], new PromptTokenizer(loaded).Encode("Hello world"));
    }

    [Fact]
    public async Task Simulator_WithTokenizerFlag_CountsWithTheModelsTokenizer()
    {
        WriteTokenizerJson(QwenPattern, mergesAsArrays: false);
        var logs = new CapturingLoggerProvider();
        await using var simulator = await RunningSimulator.StartAsync(["--tokenizer", _directory], configure: builder => builder.Logging.AddProvider(logs));

        using var tokenize = await simulator.Client.PostAsJsonAsync("/tokenize", new { model = "dp7b", prompt = "ab ab1212" });
        var tokens = (await tokenize.Content.ReadFromJsonAsync<JsonObject>())!;
        using var completion = await simulator.Client.PostAsJsonAsync("/v1/completions", new { model = "dp7b", prompt = "ab ab1212", max_tokens = 2 });
        var usage = (await completion.Content.ReadFromJsonAsync<JsonObject>())!["usage"]!;

        Assert.Equal(6, tokens["count"]!.GetValue<int>());
        Assert.Equal(6, usage["prompt_tokens"]!.GetValue<int>());
        Assert.Contains(logs.Logger.Lines, r => r.Message.StartsWith("Tokenizer: byte-level BPE from ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Simulator_ModelDirectoryWithTokenizerFiles_IsUsedWithoutTheFlag()
    {
        WriteTokenizerJson(QwenPattern, mergesAsArrays: false);
        string[] args = ["serve", _directory, "--host", "127.0.0.1", "--port", "0", "--served-model-name", "dp7b"];
        var app = PdApp.Simulator.SimulatorApp.Create(args);
        await app.StartAsync();
        try
        {
            using var client = new HttpClient { BaseAddress = PdApp.Simulator.SimulatorApp.GetBaseAddress(app) };
            using var tokenize = await client.PostAsJsonAsync("/tokenize", new { model = "dp7b", prompt = "1212" });
            var tokens = (await tokenize.Content.ReadFromJsonAsync<JsonObject>())!;

            Assert.Equal(4, tokens["count"]!.GetValue<int>());
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>
    /// A byte-level BPE tokenizer.json in the Hugging Face layout: ids 0-1 letters, 2 "ab", 3 "Ġ",
    /// 4 "Ġab", 5-6 digits, 7 "12", 8 "1212", 9 an added special token.
    /// </summary>
    private void WriteTokenizerJson(string? pattern, bool mergesAsArrays)
    {
        string[][] merges = [["a", "b"], ["Ġ", "ab"], ["1", "2"], ["12", "12"]];
        JsonNode preTokenizer = pattern is null
            ? new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true }
            : new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = pattern }, ["behavior"] = "Isolated", ["invert"] = false },
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = false }),
            };
        var document = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(new JsonObject { ["id"] = 9, ["content"] = "<|im_start|>", ["special"] = true }),
            ["normalizer"] = new JsonObject { ["type"] = "NFC" },
            ["pre_tokenizer"] = preTokenizer,
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel" },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["byte_fallback"] = false,
                ["vocab"] = new JsonObject { ["a"] = 0, ["b"] = 1, ["ab"] = 2, ["Ġ"] = 3, ["Ġab"] = 4, ["1"] = 5, ["2"] = 6, ["12"] = 7, ["1212"] = 8 },
                ["merges"] = mergesAsArrays
                    ? new JsonArray([.. merges.Select(m => (JsonNode)new JsonArray(m[0], m[1]))])
                    : new JsonArray([.. merges.Select(m => (JsonNode)JsonValue.Create($"{m[0]} {m[1]}"))]),
            },
        };
        File.WriteAllText(Path.Combine(_directory, ModelTokenizerLoader.TokenizerJsonFile), document.ToJsonString(), Encoding.UTF8);
    }
}
