using System.Text;
using PdApp.Proxy.Pipeline.Migration;
using PdApp.Proxy.Pipeline.Requests;

namespace PdApp.Tests.Proxy.Pipeline;

/// <summary>Which requests may move to another decode instance, and why not.</summary>
public sealed class MigrationEligibilityTests
{
    [Theory]
    [InlineData("""{"prompt": "hi", "max_tokens": 5, "seed": 1}""", null)]
    [InlineData("""{"prompt": ["hi"], "temperature": 0.7}""", null)]
    [InlineData("""{"prompt": "hi", "n": 2}""", MigrationReasons.MultipleChoices)]
    [InlineData("""{"prompt": "hi", "best_of": 3}""", MigrationReasons.MultipleChoices)]
    [InlineData("""{"prompt": "hi", "logprobs": 2}""", MigrationReasons.Logprobs)]
    [InlineData("""{"prompt": "hi", "echo": true}""", MigrationReasons.Logprobs)]
    [InlineData("""{"prompt": "hi", "prompt_logprobs": 1}""", MigrationReasons.Logprobs)]
    [InlineData("""{"prompt": "hi", "guided_choice": ["a", "b"]}""", MigrationReasons.GuidedDecoding)]
    [InlineData("""{"prompt": "hi", "response_format": {"type": "json_schema", "json_schema": {}}}""", MigrationReasons.GuidedDecoding)]
    [InlineData("""{"prompt": "hi", "response_format": {"type": "text"}}""", null)]
    [InlineData("""{"prompt": [1, 2, 3]}""", MigrationReasons.PromptShape)]
    [InlineData("""{"prompt": ["a", "b"]}""", MigrationReasons.PromptShape)]
    public void Completions_RefusalNamesTheReason(string body, string? reason) =>
        Assert.Equal(reason, MigrationEligibility.RefusalFor(Parse(OpenAiRoute.Completions, body)));

    [Theory]
    [InlineData("""{"messages": [{"role": "user", "content": "hi"}], "logprobs": true, "top_logprobs": 2}""", null)]
    [InlineData("""{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "The"}], "continue_final_message": true, "add_generation_prompt": false}""", null)]
    [InlineData("""{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": [{"type": "text", "text": "The"}]}], "continue_final_message": true, "add_generation_prompt": false}""", MigrationReasons.PromptShape)]
    [InlineData("""{"messages": [{"role": "user", "content": "hi"}], "structured_outputs": {"regex": "a+"}}""", MigrationReasons.GuidedDecoding)]
    public void Chat_RefusalNamesTheReason(string body, string? reason) =>
        Assert.Equal(reason, MigrationEligibility.RefusalFor(Parse(OpenAiRoute.ChatCompletions, body)));

    [Theory]
    [InlineData("""{"prompt": "hi", "max_tokens": 100}""", 100, null)]
    [InlineData("""{"prompt": "hi", "max_tokens": 101}""", 100, MigrationReasons.NonStreamingSize)]
    [InlineData("""{"prompt": "hi"}""", 100, MigrationReasons.NonStreamingSize)]
    [InlineData("""{"prompt": "hi"}""", 0, null)]
    [InlineData("""{"prompt": "hi", "max_tokens": 101, "stream": true}""", 100, null)]
    [InlineData("""{"prompt": "hi", "stream": true}""", 100, null)]
    public void NonStreamingSize_RefusedPastTheLimitOrWithoutOne(string body, int limit, string? reason) =>
        Assert.Equal(reason, MigrationEligibility.SizeRefusalFor(Parse(OpenAiRoute.Completions, body), limit));

    [Theory]
    [InlineData("""{"messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 50}""", null)]
    [InlineData("""{"messages": [{"role": "user", "content": "hi"}], "max_completion_tokens": 500}""", MigrationReasons.NonStreamingSize)]
    [InlineData("""{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 500, "max_completion_tokens": 50}""", null)]
    public void NonStreamingSize_ChatReadsEitherLimit(string body, string? reason) =>
        Assert.Equal(reason, MigrationEligibility.SizeRefusalFor(Parse(OpenAiRoute.ChatCompletions, body), 100));

    [Theory]
    [InlineData("""{"prompt": "hi", "seed": 3, "temperature": 0.8}""", true)]
    [InlineData("""{"prompt": "hi", "temperature": 0}""", true)]
    [InlineData("""{"prompt": "hi", "temperature": 0.8}""", false)]
    public void Reproducible_WhenSeededOrGreedy(string body, bool reproducible) =>
        Assert.Equal(reproducible, MigrationEligibility.IsReproducible(Parse(OpenAiRoute.Completions, body)));

    private static CompletionRequest Parse(OpenAiRoute route, string body)
    {
        Assert.True(CompletionRequestParser.TryParse(route, Encoding.UTF8.GetBytes(body), null, out var request, out var error), error?.ToString());
        return request!;
    }
}
