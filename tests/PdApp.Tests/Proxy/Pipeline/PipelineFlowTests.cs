using System.Net;
using System.Net.Http;
using System.Text.Json;
using PdApp.Protocol;
using PdApp.Tests.Proxy.Infrastructure;

namespace PdApp.Tests.Proxy.Pipeline;

/// <summary>
/// The request pipeline and each connector flow without sockets: a scripted handler stands behind
/// the proxy's one invoker, so what P and D receive, what the client gets and which events the
/// pipeline reports are asserted directly (the end-to-end socket tests keep the simulator runs).
/// </summary>
public sealed class PipelineFlowTests
{
    [Fact]
    public async Task TwoStep_PrefillsOneTokenThenRelaysTheClientsBytesToDecode()
    {
        using var harness = new PipelineHarness(KvConnectorNames.SharedStorage).With(PdRole.Prefill, 1).With(PdRole.Decode, 1);
        var client = Bodies.Completion(maxTokens: 9);

        var result = await harness.RunAsync(client);

        Assert.Equal(200, result.Status);
        Assert.Equal("""{"id":"d"}""", result.Body);
        using var prefill = JsonDocument.Parse(Assert.Single(result.Prefills).Body);
        Assert.Equal(1, prefill.RootElement.GetProperty("max_tokens").GetInt32());
        Assert.False(prefill.RootElement.GetProperty("stream").GetBoolean());
        var decode = Assert.Single(result.Decodes);
        Assert.Equal(client, decode.Body);
        Assert.Equal("/v1/completions", decode.Path);
        Assert.Equal(result.Prefills.Single().RequestId, decode.RequestId);
        Assert.Matches("^[0-9a-f]{32}$", decode.RequestId);
        Assert.Equal("prefill-0", result.Headers[PdHeaders.ProxyPrefillInstance]);
        Assert.Equal("decode-0", result.Headers[PdHeaders.ProxyDecodeInstance]);
        Assert.Equal(
            ["RequestParsed", "PrefillStarted prefill-0", "PrefillEnded Succeeded", "KvTransferExpected", "DecodeStarted decode-0", "DecodeResponded 200", "DecodeEnded None"],
            result.Events);
    }

    [Fact]
    public async Task Nixl_PrefillAsksForARemoteDecode_AndDecodeGetsTheParametersPReturned()
    {
        using var harness = new PipelineHarness(KvConnectorNames.Nixl).With(PdRole.Prefill, 1).With(PdRole.Decode, 1);
        harness.Upstream.Respond = (call, _) => Task.FromResult(call.ToPrefill
            ? ScriptedUpstream.Json("""{"id":"p","kv_transfer_params":{"remote_engine_id":"e1","remote_block_ids":[1,2],"remote_host":"10.1.1.1","remote_port":5600}}""")
            : ScriptedUpstream.Json("""{"id":"d"}"""));

        var result = await harness.RunAsync(Bodies.Completion());

        using var prefill = JsonDocument.Parse(result.Prefills.Single().Body);
        Assert.True(prefill.RootElement.GetProperty("kv_transfer_params").GetProperty("do_remote_decode").GetBoolean());
        using var decode = JsonDocument.Parse(result.Decodes.Single().Body);
        var parameters = decode.RootElement.GetProperty("kv_transfer_params");
        Assert.Equal("e1", parameters.GetProperty("remote_engine_id").GetString());
        Assert.Equal(5600, parameters.GetProperty("remote_port").GetInt32());
        Assert.Contains("KvTransferObserved True", result.Events);
    }

    [Fact]
    public async Task P2pNccl_BothInstancesSeeOneRequestIdNamingThePair()
    {
        using var harness = new PipelineHarness(KvConnectorNames.P2pNccl).With(PdRole.Prefill, 1).With(PdRole.Decode, 1);

        var result = await harness.RunAsync(Bodies.Completion());

        Assert.Equal(200, result.Status);
        var id = result.Prefills.Single().RequestId!;
        Assert.Equal(id, result.Decodes.Single().RequestId);
        Assert.Matches("^___prefill_addr_10\\.0\\.0\\.\\d+:14579___decode_addr_10\\.0\\.0\\.\\d+:14579_[0-9a-f]{32}$", id);
    }

    [Fact]
    public async Task PrefillServerError_IsRetriedOnceOnTheOtherPrefillInstance()
    {
        using var harness = new PipelineHarness(KvConnectorNames.SharedStorage).With(PdRole.Prefill, 2).With(PdRole.Decode, 1);
        var failed = 0;
        harness.Upstream.Respond = (call, _) => Task.FromResult(
            call.ToPrefill && Interlocked.Increment(ref failed) == 1
                ? ScriptedUpstream.Json("""{"error":{"message":"boom"}}""", HttpStatusCode.InternalServerError)
                : ScriptedUpstream.Json(call.ToPrefill ? """{"id":"p"}""" : """{"id":"d"}"""));

        var result = await harness.RunAsync(Bodies.Completion());

        Assert.Equal(200, result.Status);
        Assert.Equal(2, result.Prefills.Select(c => c.Instance).Distinct().Count());
        Assert.Contains("PrefillRetried UpstreamError", result.Events);
    }

    [Fact]
    public async Task PrefillRejection_IsPassedThroughAndDecodeIsNeverCalled()
    {
        using var harness = new PipelineHarness(KvConnectorNames.SharedStorage).With(PdRole.Prefill, 2).With(PdRole.Decode, 1);
        harness.Upstream.Respond = (call, _) => Task.FromResult(
            ScriptedUpstream.Json("""{"error":{"message":"too long","type":"BadRequestError","code":400}}""", HttpStatusCode.BadRequest));

        var result = await harness.RunAsync(Bodies.Completion());

        Assert.Equal(400, result.Status);
        Assert.Contains("too long", result.Body);
        Assert.Single(result.Calls);
        Assert.DoesNotContain(result.Events, e => e.StartsWith("Decode", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(KvConnectorNames.SharedStorage, 2, 1)]
    [InlineData(KvConnectorNames.P2pNccl, 2, 2)] // migration: a new prefill pushes the KV to the new D under a new request id
    [InlineData(KvConnectorNames.PyNccl, 1, 1)] // the KV went to the one D of the NCCL pipe
    public async Task DecodeConnectFailure_MovesToAnotherDecodeOnlyWhereTheKvCanReachIt(string connector, int decodeCalls, int prefillCalls)
    {
        using var harness = new PipelineHarness(connector).With(PdRole.Prefill, 1).With(PdRole.Decode, 2);
        var refused = 0;
        harness.Upstream.Respond = (call, _) => !call.ToPrefill && Interlocked.Increment(ref refused) == 1
            ? throw new HttpRequestException(HttpRequestError.ConnectionError, "connection refused")
            : Task.FromResult(ScriptedUpstream.Json(call.ToPrefill ? """{"id":"p"}""" : """{"id":"d"}"""));

        var result = await harness.RunAsync(Bodies.Completion());

        Assert.Equal(decodeCalls, result.Decodes.Count());
        Assert.Equal(prefillCalls, result.Prefills.Count());
        Assert.Equal(decodeCalls == 2 ? 200 : 502, result.Status);
    }

    [Fact]
    public async Task DecodeSilentBeforeItsHeaders_Returns504AfterTheConfiguredIdleTimeout()
    {
        using var harness = new PipelineHarness(KvConnectorNames.SharedStorage, o => o.Timeouts.DecodeIdleSeconds = 0.2).With(PdRole.Prefill, 1).With(PdRole.Decode, 1);
        harness.Upstream.Respond = async (call, cancellationToken) =>
        {
            if (!call.ToPrefill)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            return ScriptedUpstream.Json("""{"id":"p"}""");
        };

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var result = await harness.RunAsync(Bodies.Completion(stream: true));

        Assert.Equal(504, result.Status);
        Assert.Contains("within 0.2 s (Pd:Proxy:Timeouts:DecodeIdleSeconds)", result.Body);
        Assert.InRange(System.Diagnostics.Stopwatch.GetElapsedTime(started), TimeSpan.FromSeconds(0.15), TimeSpan.FromSeconds(3));
        Assert.Contains("DecodeEnded RequestTimedOut", result.Events);
    }

    [Fact]
    public async Task DecodeSilentMidStream_EndsTheStreamWithAnInBandErrorAndDone()
    {
        using var harness = new PipelineHarness(KvConnectorNames.SharedStorage, o => o.Timeouts.DecodeIdleSeconds = 0.2).With(PdRole.Prefill, 1).With(PdRole.Decode, 1);
        harness.Upstream.Respond = (call, _) => Task.FromResult(call.ToPrefill
            ? ScriptedUpstream.Json("""{"id":"p"}""")
            : ScriptedUpstream.EventStream(new StallingStream("data: {\"choices\":[{\"text\":\"a\"}]}\n\n")));

        var result = await harness.RunAsync(Bodies.Completion(stream: true));

        Assert.Equal(200, result.Status);
        Assert.StartsWith("data: {\"choices\"", result.Body);
        Assert.Contains("sent nothing for 0.2 s (Pd:Proxy:Timeouts:DecodeIdleSeconds)", result.Body);
        Assert.EndsWith("data: [DONE]\n\n", result.Body);
    }

    [Fact]
    public async Task NoPrefillInstanceWithFallback_ServesOnDecodeAlone()
    {
        using var harness = new PipelineHarness(KvConnectorNames.SharedStorage, decodeOnlyFallback: true).With(PdRole.Decode, 1);

        var result = await harness.RunAsync(Bodies.Completion());

        Assert.Equal(200, result.Status);
        Assert.Empty(result.Prefills);
        Assert.Equal("decode-only", result.Exchange.ModeName);
        Assert.Contains("DecodeOnlyFallback no_prefill_instance", result.Events);
    }

    [Fact]
    public async Task NoPrefillInstanceWithoutFallback_Returns503NamingTheRole()
    {
        using var harness = new PipelineHarness(KvConnectorNames.SharedStorage).With(PdRole.Decode, 1);

        var result = await harness.RunAsync(Bodies.Completion());

        Assert.Equal(503, result.Status);
        Assert.Contains("No prefill instance is available: none is registered.", result.Body);
        Assert.Empty(result.Calls);
    }

    [Fact]
    public async Task DrainedDecode_Returns503SayingItIsDrained_WithoutAddresses()
    {
        using var harness = new PipelineHarness(KvConnectorNames.SharedStorage).With(PdRole.Prefill, 1).With(PdRole.Decode, 2);
        harness.Registry.Find("decode-0")!.IsDraining = true;
        harness.Registry.Find("decode-1")!.IsHealthy = false;

        var result = await harness.RunAsync(Bodies.Completion());

        Assert.Equal(503, result.Status);
        using var error = JsonDocument.Parse(result.Body);
        var message = error.RootElement.GetProperty("error").GetProperty("message").GetString();
        Assert.Equal("No decode instance is available: decode-0 is drained, decode-1 is unhealthy.", message);
        Assert.DoesNotContain("http://", result.Body);
        Assert.DoesNotContain("10.0.0.", result.Body);
        Assert.Empty(result.Decodes);
    }

    [Fact]
    public async Task LMCache_PrefillNamesTheChosenDecodeAsReceiver_AndDecodeWaitsForTheSendersNotification()
    {
        using var harness = new PipelineHarness(KvConnectorNames.LMCacheV1).With(PdRole.Prefill, 1).With(PdRole.Decode, 1);
        var notified = 0;
        var decodeSawNotification = -1;
        harness.Upstream.Respond = (call, cancellationToken) =>
        {
            if (call.ToPrefill)
            {
                // The sender notifies a little after prefill answered, as LMCache's save finishes at the step's end.
                var requestId = JsonDocument.Parse(call.Body).RootElement.GetProperty("kv_transfer_params").GetProperty("disagg_spec").GetProperty("req_id").GetString()!;
                _ = Task.Run(async () =>
                {
                    await Task.Delay(100, CancellationToken.None);
                    Volatile.Write(ref notified, 1);
                    Assert.True(harness.KvReady.Signal(requestId));
                });
                return Task.FromResult(ScriptedUpstream.Json("""{"id":"p"}"""));
            }

            decodeSawNotification = Volatile.Read(ref notified);
            return Task.FromResult(ScriptedUpstream.Json("""{"id":"d"}"""));
        };
        var client = Bodies.Completion(maxTokens: 9);

        var result = await harness.RunAsync(client);

        Assert.Equal(200, result.Status);
        Assert.Equal(1, decodeSawNotification);
        using var prefill = JsonDocument.Parse(result.Prefills.Single().Body);
        var spec = prefill.RootElement.GetProperty("kv_transfer_params").GetProperty("disagg_spec");
        Assert.Matches("^[0-9a-f]{32}$", spec.GetProperty("req_id").GetString());
        Assert.Equal("10.0.0.10", spec.GetProperty("receiver_host").GetString());
        Assert.Equal([14579], spec.GetProperty("receiver_init_port").EnumerateArray().Select(p => p.GetInt32()));
        Assert.Equal([7400], spec.GetProperty("receiver_alloc_port").EnumerateArray().Select(p => p.GetInt32()));
        Assert.Equal(1, prefill.RootElement.GetProperty("max_tokens").GetInt32());
        Assert.Equal(client, result.Decodes.Single().Body);
        Assert.Equal(0, harness.KvReady.Pending);
    }

    [Fact]
    public async Task LMCache_NoNotification_DecodeGoesAfterTheTimeoutAndComputesTheKvItself()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        using var harness = new PipelineHarness(KvConnectorNames.LMCacheV1, kvClock: clock).With(PdRole.Prefill, 1).With(PdRole.Decode, 1);

        var run = harness.RunAsync(Bodies.Completion());
        await WaitUntilAsync(() => harness.Upstream.Calls.Any(c => c.ToPrefill) && harness.KvReady.Pending == 1);
        await Task.Delay(100);
        var decodedBeforeTimeout = harness.Upstream.Calls.Any(c => !c.ToPrefill);
        clock.Advance(TimeSpan.FromSeconds(5));
        var result = await run.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.False(decodedBeforeTimeout);
        Assert.Equal(200, result.Status);
        Assert.Single(result.Decodes);
        Assert.Equal(0, harness.KvReady.Pending);
    }

    [Fact]
    public async Task LMCache_NotificationForAnotherRequest_ReleasesNothing()
    {
        var notifications = new PdApp.Proxy.Pipeline.Flows.LMCache.KvReadyNotifications();
        using var waiter = notifications.Register("mine", ranks: 2);

        Assert.False(notifications.Signal("forged"));
        Assert.True(notifications.Signal("mine"));
        Assert.False(waiter.Ready.IsCompleted);
        Assert.True(notifications.Signal("mine"));
        await waiter.Ready.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1, notifications.Unmatched);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 30 s");
            await Task.Delay(10);
        }
    }
}
