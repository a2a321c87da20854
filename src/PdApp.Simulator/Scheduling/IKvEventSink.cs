using PdApp.Protocol.KvEvents;

namespace PdApp.Simulator.Scheduling;

/// <summary>Receives the prefix cache's events in the order they happened (the KV events publisher).</summary>
internal interface IKvEventSink
{
    /// <summary>Takes the events of one cache operation; called under the cache's lock, so it must not block.</summary>
    /// <param name="events">The events, in order.</param>
    void Publish(IReadOnlyList<KvCacheEvent> events);
}

/// <summary>Drops events (no <c>--kv-events-config</c>).</summary>
internal sealed class NullKvEventSink : IKvEventSink
{
    /// <inheritdoc />
    public void Publish(IReadOnlyList<KvCacheEvent> events)
    {
    }
}
