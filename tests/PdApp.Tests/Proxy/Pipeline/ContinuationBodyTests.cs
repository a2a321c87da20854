using System.Text;
using System.Text.Json;
using PdApp.Proxy.Pipeline.Migration;
using PdApp.Proxy.Pipeline.Requests;

namespace PdApp.Tests.Proxy.Pipeline;

/// <summary>
/// The continuation body a migrated request is re-sent with (written with a plain <c>Utf8JsonWriter</c>,
/// not the reflection-based serializer), and the start-up rehearsal of a move's data path.
/// </summary>
public sealed class ContinuationBodyTests
{
    [Fact]
    public void Completions_PromptGetsTheRelayedText_LimitsShrink_OtherFieldsKept()
    {
        var continuation = Continue(
            OpenAiRoute.Completions,
            """{"model":"m","prompt":"Say \"h\u00e9\" \u2603","max_tokens":10,"min_tokens":4,"seed":7,"stop":["</s>"],"stream":true}""",
            " caf\u00e9 \"ok\" <b>", tokens: 3);

        var root = continuation.RootElement;
        Assert.Equal("Say \"h\u00e9\" \u2603 caf\u00e9 \"ok\" <b>", root.GetProperty("prompt").GetString());
        Assert.Equal(7, root.GetProperty("max_tokens").GetInt32());
        Assert.Equal(1, root.GetProperty("min_tokens").GetInt32());
        Assert.Equal(7, root.GetProperty("seed").GetInt32());
        Assert.Equal("</s>", root.GetProperty("stop")[0].GetString());
        Assert.True(root.GetProperty("stream").GetBoolean());
    }

    [Fact]
    public void Chat_TextBecomesAnAssistantPrefixThatContinues()
    {
        var continuation = Continue(
            OpenAiRoute.ChatCompletions,
            """{"model":"m","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":5,"stream":true}""",
            "The \u00fcber", tokens: 2);

        var root = continuation.RootElement;
        var last = root.GetProperty("messages")[1];
        Assert.Equal("assistant", last.GetProperty("role").GetString());
        Assert.Equal("The \u00fcber", last.GetProperty("content").GetString());
        Assert.True(root.GetProperty("continue_final_message").GetBoolean());
        Assert.False(root.GetProperty("add_generation_prompt").GetBoolean());
        Assert.Equal(3, root.GetProperty("max_completion_tokens").GetInt32());
    }

    [Fact]
    public void WarmUpRehearsal_BuildsAValidContinuationForEachRoute()
    {
        var completions = MigrationWarmUp.Rehearse(
            OpenAiRoute.Completions,
            """{"model":"w","prompt":"Warm up","max_tokens":4,"stream":true}"""u8.ToArray(),
            """{"id":"cmpl-1","object":"text_completion","created":1,"model":"w","choices":[{"index":0,"text":" once","logprobs":null,"finish_reason":null}]}"""u8.ToArray());
        using (var document = JsonDocument.Parse(completions))
        {
            Assert.Equal("Warm up once", document.RootElement.GetProperty("prompt").GetString());
            Assert.Equal(3, document.RootElement.GetProperty("max_tokens").GetInt32());
        }

        var chat = MigrationWarmUp.Rehearse(
            OpenAiRoute.ChatCompletions,
            """{"model":"w","messages":[{"role":"user","content":"Warm up"}],"stream":true}"""u8.ToArray(),
            """{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"w","choices":[{"index":0,"delta":{"role":"assistant","content":" once"},"logprobs":null,"finish_reason":null}]}"""u8.ToArray());
        using (var document = JsonDocument.Parse(chat))
        {
            Assert.Equal(" once", document.RootElement.GetProperty("messages")[1].GetProperty("content").GetString());
            Assert.True(document.RootElement.GetProperty("continue_final_message").GetBoolean());
        }
    }

    private static JsonDocument Continue(OpenAiRoute route, string body, string relayed, int tokens)
    {
        Assert.True(CompletionRequestParser.TryParse(route, Encoding.UTF8.GetBytes(body), servedModel: null, out var request, out var error), error?.Message);
        using (request)
        {
            var progress = new StreamProgress();
            var text = Encoding.UTF8.GetBytes(relayed);
            for (var i = 0; i < tokens; i++)
            {
                // The relayed text arrives over `tokens` chunks; only the first carries it here.
                progress.AddContent(i == 0 ? text : [], isRole: false, finished: false);
            }

            return JsonDocument.Parse(ContinuationBody.Create(request!, progress));
        }
    }
}
