using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using PdApp.Protocol;
using PdApp.Proxy.Observability.Metrics;
using PdApp.Proxy.Observability.Tracing;
using PdApp.Tests.Observability.Infrastructure;
using PdApp.Tests.Proxy.Infrastructure;

namespace PdApp.Tests.Proxy;

/// <summary>
/// Request migration (issue 14): a stream whose decode instance fails continues on another decode
/// instance and the client sees one continuous stream equal to an unfaulted run's.
/// </summary>
public sealed class ProxyMigrationTests
{
    private const string Faulty = "decode-0";
    private const string Healthy = "decode-1";

    [Fact]
    public async Task StreamAbortedAfterNTokens_ContinuesOnOtherDecode_AndEqualsAnUnfaultedRun()
    {
        var (proxy, healthy) = await StartAsync(faultyArgs: ["--fault-abort-after-tokens", "5"]);
        await using var fixture = proxy;
        var body = Completion(maxTokens: 16);

        var reference = await ReferenceAsync(healthy, "/v1/completions", body);
        var stream = await StreamServedByAsync(proxy, "/v1/completions", body, Faulty);

        Assert.Equal(reference.Text, stream.Text);
        Assert.Equal(16, stream.ContentChunks);
        AssertOneContinuousStream(stream);
        Assert.Equal(reference.Usage!.ToJsonString(), stream.Usage!.ToJsonString());
        Assert.Equal(1, await proxy.Metrics.WaitForAsync(ProxyMeter.MigrationsInstrument, 1, "reason", "connection_lost"));
        Assert.Equal(1, proxy.Metrics.Sum(ProxyMeter.MigrationsInstrument, "outcome", "migrated"));
    }

    [Fact]
    public async Task ChatStreamAborted_ContinuesWithAnAssistantPrefix_OneRoleDeltaAndUsageAddsUp()
    {
        var (proxy, healthy) = await StartAsync(faultyArgs: ["--fault-abort-after-tokens", "4"]);
        await using var fixture = proxy;
        var body = Chat(maxTokens: 12);

        var reference = await ReferenceAsync(healthy, "/v1/chat/completions", body);
        var stream = await StreamServedByAsync(proxy, "/v1/chat/completions", body, Faulty);

        Assert.Equal(reference.Text, stream.Text);
        Assert.Equal(1, stream.RoleDeltas);
        AssertOneContinuousStream(stream);
        var usage = stream.Usage!;
        Assert.Equal(reference.Usage!.ToJsonString(), usage.ToJsonString());
        Assert.Equal((int)usage["prompt_tokens"]! + (int)usage["completion_tokens"]!, (int)usage["total_tokens"]!);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(4096, 0)]
    public async Task ContinuationUnderDecodeAloneBelowTokens_SkipsThePrefillInstance_StreamStillContinuesExactly(int decodeAloneBelowTokens, int continuationPrefills)
    {
        var (proxy, healthy, prefill) = await StartWithPrefillAsync(
            faultyArgs: ["--fault-abort-after-tokens", "5"], settings: $"Pd:Proxy:Migration:DecodeAloneBelowTokens={decodeAloneBelowTokens}");
        await using var fixture = proxy;
        var body = Completion(maxTokens: 16);
        var reference = await ReferenceAsync(healthy, "/v1/completions", body);
        var promptTokens = (int)reference.Usage!["prompt_tokens"]!;
        var prefillTokensBefore = await prefill.ReadMetricAsync("vllm:prompt_tokens_total");

        var stream = await StreamServedByAsync(proxy, "/v1/completions", body, Faulty);

        Assert.Equal(reference.Text, stream.Text);
        Assert.Equal(16, stream.ContentChunks);
        AssertOneContinuousStream(stream);
        Assert.Equal(reference.Usage!.ToJsonString(), stream.Usage!.ToJsonString());
        Assert.Equal(1, proxy.Metrics.Sum(ProxyMeter.MigrationsInstrument, "outcome", "migrated"));

        // P prefilled each request sent once; the continuation's extended prompt only when it took the prefill path.
        var continuationTokens = await prefill.ReadMetricAsync("vllm:prompt_tokens_total") - prefillTokensBefore - stream.Sent * promptTokens;
        if (continuationPrefills == 0)
        {
            Assert.Equal(0, continuationTokens);
        }
        else
        {
            Assert.True(continuationTokens > promptTokens, $"The continuation's prefill counted {continuationTokens} tokens.");
        }
    }

    [Fact]
    public async Task InBandEngineError_MidStream_Migrates()
    {
        var (proxy, healthy) = await StartAsync(faultyArgs: ["--fault-error-after-tokens", "3"]);
        await using var fixture = proxy;
        var body = Completion(maxTokens: 10);

        var reference = await ReferenceAsync(healthy, "/v1/completions", body);
        var stream = await StreamServedByAsync(proxy, "/v1/completions", body, Faulty);

        Assert.Equal(reference.Text, stream.Text);
        AssertOneContinuousStream(stream);
        Assert.Equal(1, await proxy.Metrics.WaitForAsync(ProxyMeter.MigrationsInstrument, 1, "reason", "engine_error"));
    }

    [Fact]
    public async Task NonStreamingRequest_DecodeAbortsBeforeAnswering_IsRetriedOnTheOtherDecode()
    {
        var (proxy, healthy) = await StartAsync(faultyArgs: ["--fault-abort-after-tokens", "3"]);
        await using var fixture = proxy;
        var body = Completion(maxTokens: 8, stream: false);
        var reference = await ReferenceAsync(healthy, "/v1/completions", body);

        for (var i = 0; i < 6; i++)
        {
            using var response = await proxy.PostAsync("/v1/completions", body.ToJsonString());
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.Equal(reference.Text, (string?)json["choices"]![0]!["text"]);
            Assert.Equal(reference.Usage!.ToJsonString(), json["usage"]!.ToJsonString());
        }

        Assert.True(proxy.Metrics.Sum(ProxyMeter.MigrationsInstrument, "reason", "no_response") >= 1);
    }

    [Fact]
    public async Task NonStreamingRequestPastTheSizeLimit_IsNotMigrated_ClientGetsTheGatewayError()
    {
        var (proxy, _) = await StartAsync(faultyArgs: ["--fault-abort-after-tokens", "3"], settings: "Pd:Proxy:Migration:MaxNonStreamingTokens=4");
        await using var fixture = proxy;
        var body = Completion(maxTokens: 8, stream: false);

        // The balancer alternates: some of these reach the faulty decode instance.
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await proxy.PostAsync("/v1/completions", body.ToJsonString());
            statuses.Add(response.StatusCode);
            var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            if (response.StatusCode != HttpStatusCode.OK)
            {
                Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
                Assert.False(string.IsNullOrEmpty((string?)json["error"]!["message"]));
                Assert.Equal(502, (int?)json["error"]!["code"]);
            }
        }

        Assert.Contains(HttpStatusCode.BadGateway, statuses);
        Assert.Contains(HttpStatusCode.OK, statuses);
        Assert.True(await proxy.Metrics.WaitForAsync(ProxyMeter.MigrationsInstrument, 1, "reason", "non_streaming_size") >= 1);
        Assert.Equal(0, proxy.Metrics.Sum(ProxyMeter.MigrationsInstrument, "outcome", "migrated"));
    }

    [Fact]
    public async Task KilledDecodeProcess_StreamContinuesOnTheOtherDecode()
    {
        await using var process = await SimulatorProcess.StartAsync(Faulty, "--inter-token-latency", "40");
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        var healthy = await SimulatorInstance.StartAsync(Healthy);
        await using var proxy = await ProxyFixture.StartAsync(
            KvConnectorNames.SharedStorage,
            [Upstream.Of(prefill)],
            [new Upstream(Faulty, process.BaseAddress), Upstream.Of(healthy)]);
        var body = Completion(maxTokens: 40);
        var reference = await ReferenceAsync(healthy.BaseAddress, "/v1/completions", body);

        StreamResult? migrated = null;
        for (var attempt = 0; attempt < 8 && migrated is null; attempt++)
        {
            using var response = await proxy.PostAsync("/v1/completions", body.ToJsonString(), completion: HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var servedBy = response.Headers.GetValues(PdHeaders.ProxyDecodeInstance).Single();
            migrated = await ReadStreamAsync(response, afterEvents: servedBy == Faulty ? (5, process.Kill) : null);
            if (servedBy != Faulty)
            {
                migrated = null;
            }
        }

        Assert.NotNull(migrated);
        Assert.Equal(reference.Text, migrated.Text);
        AssertOneContinuousStream(migrated);
        Assert.Equal(reference.Usage!.ToJsonString(), migrated.Usage!.ToJsonString());
    }

    [Fact]
    public async Task BothDecodesFail_MigrationLimitRespected_SecondFailureEndsInBand()
    {
        var (proxy, _) = await StartAsync(faultyArgs: ["--fault-abort-after-tokens", "3"], healthyArgs: ["--fault-abort-after-tokens", "3"]);
        await using var fixture = proxy;
        var stream = await StreamServedByAsync(proxy, "/v1/completions", Completion(maxTokens: 20), Faulty);

        Assert.Equal(502, stream.ErrorCode);
        Assert.Equal("[DONE]", stream.Events[^1]);
        Assert.Equal(1, proxy.Metrics.Sum(ProxyMeter.MigrationsInstrument, "outcome", "migrated"));
        Assert.Equal(1, await proxy.Metrics.WaitForAsync(ProxyMeter.MigrationsInstrument, 1, "reason", "limit_reached"));
    }

    [Fact]
    public async Task MigrationDisabled_StreamEndsInBandAsBefore()
    {
        var (proxy, _) = await StartAsync(faultyArgs: ["--fault-abort-after-tokens", "3"], settings: "Pd:Proxy:Migration:MaxAttempts=0");
        await using var fixture = proxy;
        var stream = await StreamServedByAsync(proxy, "/v1/completions", Completion(maxTokens: 20), Faulty);

        Assert.Equal(502, stream.ErrorCode);
        Assert.Equal("[DONE]", stream.Events[^1]);
        Assert.Equal(1, await proxy.Metrics.WaitForAsync(ProxyMeter.MigrationsInstrument, 1, "reason", "disabled"));
    }

    [Fact]
    public async Task OneDecodeInstance_NowhereToMove_StreamEndsInBandWithTheReason()
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        var decode = await SimulatorInstance.StartAsync(Faulty, ["--fault-abort-after-tokens", "3"]);
        await using var proxy = await ProxyFixture.StartAsync(KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(decode)]);

        var stream = await StreamServedByAsync(proxy, "/v1/completions", Completion(maxTokens: 20), Faulty);

        Assert.Equal(502, stream.ErrorCode);
        Assert.Equal("[DONE]", stream.Events[^1]);
        Assert.InRange(stream.ContentChunks, 1, 3);
        Assert.Equal(1, await proxy.Metrics.WaitForAsync(ProxyMeter.MigrationsInstrument, 1, "reason", "no_decode_instance"));
        Assert.Equal(1, proxy.Metrics.Sum(ProxyMeter.MigrationsInstrument, "outcome", "refused"));
    }

    [Theory]
    [InlineData("logprobs", "1", "logprobs")]
    [InlineData("response_format", """{"type": "json_object"}""", "guided_decoding")]
    [InlineData("guided_regex", "\"[a-z ]+\"", "guided_decoding")]
    public async Task RequestThatCannotContinueExactly_EndsInBandWithTheReason(string field, string value, string reason)
    {
        var (proxy, _) = await StartAsync(faultyArgs: ["--fault-abort-after-tokens", "3"]);
        await using var fixture = proxy;
        var body = Completion(maxTokens: 20);
        body[field] = JsonNode.Parse(value);

        var stream = await StreamServedByAsync(proxy, "/v1/completions", body, Faulty);

        Assert.Equal(502, stream.ErrorCode);
        Assert.Equal("[DONE]", stream.Events[^1]);
        Assert.Equal(1, await proxy.Metrics.WaitForAsync(ProxyMeter.MigrationsInstrument, 1, "reason", reason));
        Assert.Equal(1, proxy.Metrics.Sum(ProxyMeter.MigrationsInstrument, "outcome", "refused"));
    }

    [Fact]
    public async Task MigratedStream_BothDecodeSpansUnderOneRequestTrace_WithAMigrationEvent()
    {
        using var collector = new ActivityCollector();
        var (proxy, _) = await StartAsync(faultyArgs: ["--fault-abort-after-tokens", "5"]);
        await using var fixture = proxy;
        var stream = await StreamServedByAsync(proxy, "/v1/completions", Completion(maxTokens: 12), Faulty);

        // The collector sees every test's spans: this request's are those with its request id.
        bool Failed(System.Diagnostics.Activity a) =>
            a.OperationName == ProxyTracing.DecodeSpan && (string?)a.GetTagItem(PdSpanAttributes.RequestId) == stream.RequestId
            && a.Events.Any(e => e.Name == ProxyTracing.MigrationEvent);
        await collector.WaitUntilAsync(all => all.Any(Failed));
        var failed = collector.Where(Failed).Single();
        await collector.WaitUntilAsync(all => all.Count(a => a.TraceId == failed.TraceId && a.OperationName == ProxyTracing.DecodeSpan) >= 2);
        var decodes = collector.InTrace(failed.TraceId).Where(a => a.OperationName == ProxyTracing.DecodeSpan).ToList();

        Assert.Equal(2, decodes.Count);
        Assert.Equal(decodes[0].ParentSpanId, decodes[1].ParentSpanId);
        Assert.Equal([Faulty, Healthy], decodes.OrderBy(a => a.StartTimeUtc).Select(a => (string?)a.GetTagItem(PdSpanAttributes.Instance)));
        var migration = failed.Events.Single(e => e.Name == ProxyTracing.MigrationEvent);
        Assert.Equal("migrated", migration.Tags.Single(t => t.Key == PdSpanAttributes.MigrationOutcome).Value);

        // D wrote 5 tokens before it dropped the connection; a reset may discard the last unread ones.
        Assert.InRange((int)migration.Tags.Single(t => t.Key == PdSpanAttributes.MigrationTokensRelayed).Value!, 1, 5);
    }

    private static async Task<(ProxyFixture Proxy, Uri Healthy)> StartAsync(string[] faultyArgs, string[]? healthyArgs = null, params string[] settings)
    {
        var (proxy, healthy, _) = await StartWithPrefillAsync(faultyArgs, healthyArgs, settings);
        return (proxy, healthy);
    }

    private static async Task<(ProxyFixture Proxy, Uri Healthy, SimulatorInstance Prefill)> StartWithPrefillAsync(
        string[] faultyArgs, string[]? healthyArgs = null, params string[] settings)
    {
        var prefill = await SimulatorInstance.StartAsync("prefill-0");
        var faulty = await SimulatorInstance.StartAsync(Faulty, faultyArgs);
        var healthy = await SimulatorInstance.StartAsync(Healthy, healthyArgs);
        var proxy = await ProxyFixture.StartAsync(KvConnectorNames.SharedStorage, [Upstream.Of(prefill)], [Upstream.Of(faulty), Upstream.Of(healthy)], settings);
        return (proxy, healthy.BaseAddress, prefill);
    }

    private static JsonObject Completion(int maxTokens, bool stream = true)
    {
        var body = new JsonObject
        {
            ["model"] = ProxyFixture.Model,
            ["prompt"] = "The longest rivers of Europe are",
            ["max_tokens"] = maxTokens,
            ["seed"] = 42,
            ["stream"] = stream,
        };
        if (stream)
        {
            body["stream_options"] = new JsonObject { ["include_usage"] = true };
        }

        return body;
    }

    private static JsonObject Chat(int maxTokens) => new()
    {
        ["model"] = ProxyFixture.Model,
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Name three rivers in Europe." }),
        ["max_tokens"] = maxTokens,
        ["seed"] = 42,
        ["stream"] = true,
        ["stream_options"] = new JsonObject { ["include_usage"] = true },
    };

    // The unfaulted run: the same body on the healthy decode instance, directly.
    private static async Task<(string Text, JsonNode? Usage)> ReferenceAsync(Uri healthy, string path, JsonObject body)
    {
        using var client = new HttpClient { BaseAddress = healthy };
        using var request = new HttpRequestMessage(HttpMethod.Post, path.TrimStart('/')) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        if (body["stream"] is JsonValue stream && stream.GetValue<bool>())
        {
            var result = await ReadStreamAsync(response);
            return (result.Text, result.Usage);
        }

        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return ((string)json["choices"]![0]!["text"]!, json["usage"]);
    }

    // Sends until the faulty decode instance serves the stream (the balancer alternates).
    private static async Task<StreamResult> StreamServedByAsync(ProxyFixture proxy, string path, JsonObject body, string instance)
    {
        for (var attempt = 0; attempt < 8; attempt++)
        {
            using var response = await proxy.PostAsync(path, body.ToJsonString(), completion: HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var result = await ReadStreamAsync(response);
            if (response.Headers.GetValues(PdHeaders.ProxyDecodeInstance).Single() == instance)
            {
                result.RequestId = response.Headers.GetValues(PdHeaders.RequestId).Single();
                result.Sent = attempt + 1;
                return result;
            }
        }

        throw new InvalidOperationException($"No request was served by {instance}.");
    }

    private static async Task<StreamResult> ReadStreamAsync(HttpResponseMessage response, (int Events, Action Then)? afterEvents = null)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
        using var reader = new StreamReader(body);
        var result = new StreamResult();
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal))
            {
                continue;
            }

            var data = line["data: ".Length..];
            result.Events.Add(data);
            if (afterEvents is { } trigger && result.Events.Count == trigger.Events)
            {
                trigger.Then();
            }

            if (data == "[DONE]" || JsonNode.Parse(data) is not JsonObject chunk)
            {
                continue;
            }

            if (chunk["error"] is JsonObject error)
            {
                result.ErrorCode = (int?)error["code"];
                continue;
            }

            result.Ids.Add((string?)chunk["id"]);
            if (chunk["usage"] is JsonObject usage)
            {
                result.UsageChunks++;
                result.Usage = usage.DeepClone();
            }

            if (chunk["choices"] is JsonArray { Count: > 0 } choices)
            {
                var choice = choices[0]!;
                if (choice["delta"]?["role"] is not null)
                {
                    result.RoleDeltas++;
                    continue;
                }

                result.Append((string?)choice["text"] ?? (string?)choice["delta"]?["content"]);
                result.ContentChunks++;
            }
        }

        return result;
    }

    private static void AssertOneContinuousStream(StreamResult stream)
    {
        Assert.Null(stream.ErrorCode);
        Assert.Single(stream.Ids.Distinct());
        Assert.Equal(1, stream.UsageChunks);
        Assert.Equal(1, stream.Events.Count(e => e == "[DONE]"));
        Assert.Equal("[DONE]", stream.Events[^1]);
    }

    private sealed class StreamResult
    {
        private readonly StringBuilder _text = new();

        public string Text => _text.ToString();

        public List<string> Events { get; } = [];

        public List<string?> Ids { get; } = [];

        public int ContentChunks { get; set; }

        public int RoleDeltas { get; set; }

        public int UsageChunks { get; set; }

        public JsonNode? Usage { get; set; }

        public int? ErrorCode { get; set; }

        public string? RequestId { get; set; }

        // Requests sent until one was served by the wanted instance (this one included).
        public int Sent { get; set; }

        public void Append(string? text) => _text.Append(text);

        public override string ToString() => string.Join('\n', Events);
    }
}
