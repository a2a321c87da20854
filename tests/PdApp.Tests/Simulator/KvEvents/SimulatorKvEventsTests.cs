using System.Text;
using Microsoft.Extensions.DependencyInjection;
using NetMQ;
using NetMQ.Sockets;
using PdApp.Protocol.KvEvents;
using PdApp.Simulator.KvEvents;

namespace PdApp.Tests.Simulator.KvEvents;

/// <summary>The simulator started with <c>--kv-events-config</c> publishes its prefix cache as vLLM does.</summary>
public sealed class SimulatorKvEventsTests
{
    private const string Config =
        """{"enable_kv_cache_events":true,"publisher":"zmq","endpoint":"tcp://*:0","replay_endpoint":"tcp://*:0","topic":"kv@sim@dp7b"}""";

    [Fact]
    public async Task Completion_PublishesBlockStored_WithThePromptsTokens_AndReplayServesIt()
    {
        await using var sim = await RunningSimulator.StartAsync(["--kv-events-config", Config, "--block-size", "4", "--time-to-first-token", "1", "--inter-token-latency", "1"]);
        var publisher = sim.App.Services.GetRequiredService<ZmqKvEventPublisher>();
        using var sub = new SubscriberSocket();
        sub.Connect(KvEventsConfig.Connectable(publisher.Endpoint, "127.0.0.1"));
        sub.Subscribe("kv@");

        // PUB drops what it sends before the subscription arrives: send prompts until one is seen.
        var frames = new List<byte[]>();
        var received = false;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        for (var i = 0; !received && DateTime.UtcNow < deadline; i++)
        {
            await sim.Client.PostJsonAsync("/v1/completions", SimulatorHttp.Completion(Prompt(i), maxTokens: 1));
            received = sub.TryReceiveMultipartBytes(TimeSpan.FromMilliseconds(500), ref frames);
        }

        Assert.True(received, "no KV event batch received");
        Assert.Equal(3, frames.Count);
        Assert.Equal("kv@sim@dp7b", Encoding.UTF8.GetString(frames[0]));
        Assert.True(KvEventsWire.TryReadSequence(frames[1], out var sequence));
        Assert.True(KvEventCodec.TryDecode(frames[2], out var batch, out var error), error);
        var stored = Assert.IsType<BlockStored>(Assert.Single(batch!.Events));
        Assert.Equal(4, stored.BlockSize);
        Assert.Null(stored.ParentBlockHash);
        Assert.Equal(stored.BlockHashes.Count * 4, stored.TokenIds.Count);
        Assert.Equal(KvBlockHasher.HashBlocks([.. stored.TokenIds], 4), stored.BlockHashes);

        // Replay from 0 returns every batch up to this one, then the end marker.
        using var dealer = new DealerSocket();
        dealer.Connect(KvEventsConfig.Connectable(publisher.ReplayEndpoint!, "127.0.0.1"));
        dealer.SendMoreFrameEmpty().SendFrame(KvEventsWire.SequenceFrame(0));
        var replayed = new List<long>();
        while (true)
        {
            var reply = new List<byte[]>();
            Assert.True(dealer.TryReceiveMultipartBytes(TimeSpan.FromSeconds(10), ref reply), "no replay answer");
            Assert.Equal(3, reply.Count);
            Assert.True(KvEventsWire.TryReadSequence(reply[1], out var replaySeq));
            if (replaySeq == KvEventsWire.EndOfReplay)
            {
                break;
            }

            Assert.True(KvEventCodec.TryDecode(reply[2], out _, out _));
            replayed.Add(replaySeq);
        }

        Assert.Equal(0, replayed[0]);
        Assert.Contains(sequence, replayed);
        Assert.Equal(Enumerable.Range(0, replayed.Count).Select(n => (long)n), replayed);
    }

    private static string Prompt(int i) => $"request {i}: " + new StringBuilder().Insert(0, "tell me a story about caching ", 3);
}
