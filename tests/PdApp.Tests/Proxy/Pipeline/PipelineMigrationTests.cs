using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using PdApp.Protocol;
using PdApp.Proxy.Pipeline.Migration;
using PdApp.Proxy.Pipeline.Requests;
using PdApp.Tests.Simulator;
using PdApp.Tests.Proxy.Infrastructure;

namespace PdApp.Tests.Proxy.Pipeline;

/// <summary>What a migrated request sends upstream, per connector (scripted instances, no sockets).</summary>
public sealed class PipelineMigrationTests
{
    private const string FirstEvents = "data: {\"id\":\"cmpl-1\",\"created\":7,\"choices\":[{\"index\":0,\"text\":\" a\"}]}\n\ndata: {\"id\":\"cmpl-1\",\"created\":7,\"choices\":[{\"index\":0,\"text\":\" b\"}]}\n\ndata: {\"id\":\"cmpl-1\",\"cre";

    private const string Continuation = "data: {\"id\":\"cmpl-2\",\"created\":9,\"choices\":[{\"index\":0,\"text\":\" c\",\"finish_reason\":null}]}\n\n"
        + "data: {\"id\":\"cmpl-2\",\"created\":9,\"choices\":[{\"index\":0,\"text\":\" d\",\"finish_reason\":\"length\"}]}\n\ndata: [DONE]\n\n";

    [Fact]
    public async Task Nixl_DecodeSilentMidStream_PrefillsTheExtendedPromptAndDecodeGetsFreshParameters()
    {
        // The prefill path: decode-alone continuations (on by default for short prompts) switched off.
        using var harness = new PipelineHarness(KvConnectorNames.Nixl, o => (o.Timeouts.DecodeIdleSeconds, o.Migration.DecodeAloneBelowTokens) = (0.2, 0))
            .With(PdRole.Prefill, 1).With(PdRole.Decode, 2);
        var result = await RunStalledThenContinuedAsync(harness);

        // Upstream: a second prefill of the extended prompt, and D2 gets its fresh parameters.
        Assert.Equal(2, result.Prefills.Count());
        var decodeCalls = result.Decodes.ToList();
        Assert.Equal(2, decodeCalls.Count);
        Assert.NotEqual(decodeCalls[0].Instance, decodeCalls[1].Instance);
        using var second = JsonDocument.Parse(decodeCalls[1].Body);
        Assert.Equal("The capital of France is a city that a b", second.RootElement.GetProperty("prompt").GetString());
        Assert.Equal(2, second.RootElement.GetProperty("max_tokens").GetInt32());
        Assert.Equal(2, second.RootElement.GetProperty("kv_transfer_params").GetProperty("remote_block_ids")[0].GetInt32());
        Assert.Contains("DecodeMigration migrated idle_timeout", result.Events);
    }

    [Fact]
    public async Task ContinuationPrefill_GoesBackToThePrefillInstanceThatHoldsTheOriginalPrompt()
    {
        // Round robin (the harness's policy) would send the continuation's prefill to the next of three
        // instances; the one that prefilled the original prompt holds it in its prefix cache.
        using var harness = new PipelineHarness(KvConnectorNames.Nixl, o => (o.Timeouts.DecodeIdleSeconds, o.Migration.DecodeAloneBelowTokens) = (0.2, 0))
            .With(PdRole.Prefill, 3).With(PdRole.Decode, 2);
        var result = await RunStalledThenContinuedAsync(harness);

        var prefills = result.Prefills.ToList();
        Assert.Equal(2, prefills.Count);
        Assert.Equal(prefills[0].Instance, prefills[1].Instance);
        Assert.Contains("DecodeMigration migrated idle_timeout", result.Events);
    }

    [Fact]
    public async Task FailedDecodesResponse_IsClosedAfterTheMove()
    {
        // The failed stream's connection is closed off the move's path (on the thread pool), but it is closed.
        using var harness = new PipelineHarness(KvConnectorNames.SharedStorage, o => o.Timeouts.DecodeIdleSeconds = 0.2)
            .With(PdRole.Prefill, 1).With(PdRole.Decode, 2);
        var stalled = new StallingStream(FirstEvents);
        var decodes = 0;
        harness.Upstream.Respond = (call, _) => Task.FromResult(call.ToPrefill
            ? ScriptedUpstream.Json("""{"id":"p","usage":{"prompt_tokens":9}}""")
            : Interlocked.Increment(ref decodes) == 1
                ? ScriptedUpstream.EventStream(stalled)
                : ScriptedUpstream.EventStream(new MemoryStream(Encoding.UTF8.GetBytes(Continuation))));

        var result = await harness.RunAsync(Bodies.Completion(maxTokens: 4, stream: true));

        Assert.Contains("DecodeMigration migrated idle_timeout", result.Events);
        await stalled.Disposed.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Theory]
    [InlineData(KvConnectorNames.Nixl, 1)]          // unset: a short continuation goes to the surviving decode alone
    [InlineData(KvConnectorNames.SharedStorage, 1)]
    [InlineData(KvConnectorNames.P2pNccl, 2)]       // unset: off where decode waits for KV, so prefill runs again
    public async Task ShortContinuation_ByDefault_GoesToDecodeAloneWhereTheConnectorAllowsIt(string connector, int expectedPrefills)
    {
        using var harness = new PipelineHarness(connector, o => o.Timeouts.DecodeIdleSeconds = 0.2).With(PdRole.Prefill, 1).With(PdRole.Decode, 2);
        var result = await RunStalledThenContinuedAsync(harness);
        Assert.Contains("DecodeMigration migrated idle_timeout", result.Events);

        // Upstream: the continuation's prefill is skipped only where decode may prefill alone.
        Assert.Equal(expectedPrefills, result.Prefills.Count());
        var decodeCalls = result.Decodes.ToList();
        Assert.Equal(2, decodeCalls.Count);
        Assert.NotEqual(decodeCalls[0].Instance, decodeCalls[1].Instance);
        using var second = JsonDocument.Parse(decodeCalls[1].Body);
        Assert.Equal("The capital of France is a city that a b", second.RootElement.GetProperty("prompt").GetString());
        if (expectedPrefills == 1)
        {
            Assert.False(second.RootElement.TryGetProperty("kv_transfer_params", out _), "A decode-alone continuation waits for no KV.");
        }
    }

    [Fact]
    public async Task Chat_ContinuationIsAnAssistantPrefixWithContinueFinalMessage()
    {
        using var harness = new PipelineHarness(KvConnectorNames.SharedStorage, o => o.Timeouts.DecodeIdleSeconds = 0.2).With(PdRole.Prefill, 1).With(PdRole.Decode, 2);
        var decodes = 0;
        harness.Upstream.Respond = (call, _) => Task.FromResult(call.ToPrefill
            ? ScriptedUpstream.Json("""{"id":"p","usage":{"prompt_tokens":9}}""")
            : Interlocked.Increment(ref decodes) == 1
                ? ScriptedUpstream.EventStream(new StallingStream(
                    "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n"
                    + "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"The\"}}]}\n\n"))
                : ScriptedUpstream.EventStream(new MemoryStream(Encoding.UTF8.GetBytes(
                    "data: {\"id\":\"c2\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n"
                    + "data: {\"id\":\"c2\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" Rhine\"},\"finish_reason\":\"length\"}]}\n\n"
                    + "data: {\"id\":\"c2\",\"choices\":[],\"usage\":{\"prompt_tokens\":40,\"completion_tokens\":1,\"total_tokens\":41}}\n\ndata: [DONE]\n\n"))));

        var result = await harness.RunAsync(Bodies.Chat(maxTokens: 8, stream: true), OpenAiRoute.ChatCompletions);

        using var second = JsonDocument.Parse(result.Decodes.Last().Body);
        var messages = second.RootElement.GetProperty("messages");
        var last = messages[messages.GetArrayLength() - 1];
        Assert.Equal("assistant", last.GetProperty("role").GetString());
        Assert.Equal("The", last.GetProperty("content").GetString());
        Assert.True(second.RootElement.GetProperty("continue_final_message").GetBoolean());
        Assert.False(second.RootElement.GetProperty("add_generation_prompt").GetBoolean());
        Assert.Equal(7, second.RootElement.GetProperty("max_tokens").GetInt32());

        // One role delta; usage: P's prompt tokens, 1 + 1 completion tokens.
        Assert.Equal(1, CountOccurrences(result.Body, "\"role\""));
        Assert.Contains("\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,\"total_tokens\":11}", result.Body);
        Assert.DoesNotContain("\"c2\"", result.Body);
    }

    [Fact]
    public async Task MigratedStream_LogsOneTimingLineWithEveryStepInOrder()
    {
        using var logs = new CapturingLoggerProvider();
        using var factory = LoggerFactory.Create(builder => builder.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        using var harness = new PipelineHarness(KvConnectorNames.SharedStorage, o => (o.Timeouts.DecodeIdleSeconds, o.Migration.DecodeAloneBelowTokens) = (0.2, 0), timingLogger: factory.CreateLogger<MigrationTimeline>())
            .With(PdRole.Prefill, 1).With(PdRole.Decode, 2);
        var decodes = 0;
        harness.Upstream.Respond = (call, _) => Task.FromResult(call.ToPrefill
            ? ScriptedUpstream.Json("""{"id":"p","usage":{"prompt_tokens":9}}""")
            : Interlocked.Increment(ref decodes) == 1
                ? ScriptedUpstream.EventStream(new StallingStream(FirstEvents))
                : ScriptedUpstream.EventStream(new MemoryStream(Encoding.UTF8.GetBytes(Continuation))));

        var result = await harness.RunAsync(Bodies.Completion(maxTokens: 4, stream: true));

        Assert.Equal(200, result.Status);
        var line = Assert.Single(logs.Logger.Lines, l => l.Message.Contains("migration timing", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Debug, line.Level);
        Assert.Contains("decode-0 -> decode-1, 2 tokens before", line.Message);
        Assert.DoesNotContain("NaN", line.Message);
        Assert.Matches("GC at failure [0-9.]+ ms paused in all, [0-9]+ collections; JIT at failure [0-9.]+ ms compiling in all, [0-9]+ methods", line.Message);

        // Milliseconds after the failure: the last token before it, then each step of the move in order.
        var steps = new[] { "last token", "handled", "built", "prefill sent", "prefill answered", "decode leased", "decode sent", "decode headers", "first token" }
            .Select(step => double.Parse(
                Regex.Match(line.Message, Regex.Escape(step) + " (-?[0-9.]+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))
            .ToList();
        Assert.True(steps[0] <= 0, line.Message);
        Assert.Equal(steps.Skip(1).Order(), steps.Skip(1));
        Assert.True(steps[^1] >= 0, line.Message);
    }

    // P answers with NIXL-style parameters (a new block id per prefill), the first D stalls after two events
    // (cut mid-event), the second D finishes; the client must see one stream: the cut third event never shown,
    // the continuation under the first id.
    private static async Task<PipelineResult> RunStalledThenContinuedAsync(PipelineHarness harness)
    {
        var prefills = 0;
        var decodes = 0;
        harness.Upstream.Respond = (call, _) => Task.FromResult(call.ToPrefill
            ? ScriptedUpstream.Json($$$"""{"id":"p","usage":{"prompt_tokens":9},"kv_transfer_params":{"remote_engine_id":"e1","remote_block_ids":[{{{Interlocked.Increment(ref prefills)}}}],"remote_host":"10.1.1.1","remote_port":5600}}""")
            : Interlocked.Increment(ref decodes) == 1
                ? ScriptedUpstream.EventStream(new StallingStream(FirstEvents))
                : ScriptedUpstream.EventStream(new MemoryStream(Encoding.UTF8.GetBytes(Continuation))));

        var result = await harness.RunAsync(Bodies.Completion(maxTokens: 4, stream: true));

        Assert.Equal(200, result.Status);
        Assert.DoesNotContain("error", result.Body);
        Assert.Equal(5, CountOccurrences(result.Body, "data: "));
        Assert.Equal(4, CountOccurrences(result.Body, "\"id\":\"cmpl-1\""));
        Assert.Equal(1, CountOccurrences(result.Body, "[DONE]"));
        return result;
    }

    private static int CountOccurrences(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
