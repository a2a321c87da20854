using System.Buffers.Binary;

namespace PdApp.Protocol.KvEvents;

/// <summary>
/// The ZeroMQ framing of vLLM's <c>ZmqEventPublisher</c> (vllm/distributed/kv_events.py): the PUB
/// socket sends multipart <c>[topic, seq, payload]</c> with <c>seq</c> an 8-byte big-endian counter
/// from 0; the ROUTER replay socket takes <c>[identity, "", start_seq]</c> and answers every buffered
/// batch with <c>seq &gt;= start_seq</c> as <c>[identity, "", seq, payload]</c>, then
/// <c>[identity, "", -1, ""]</c>.
/// </summary>
public static class KvEventsWire
{
    /// <summary>The end-of-replay sequence number.</summary>
    public const long EndOfReplay = -1;

    /// <summary>An 8-byte big-endian sequence frame.</summary>
    /// <param name="sequence">The sequence number.</param>
    /// <returns>The frame.</returns>
    public static byte[] SequenceFrame(long sequence)
    {
        var frame = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(frame, sequence);
        return frame;
    }

    /// <summary>Reads a sequence frame.</summary>
    /// <param name="frame">The frame.</param>
    /// <param name="sequence">The sequence number.</param>
    /// <returns>False when the frame is not 8 bytes.</returns>
    public static bool TryReadSequence(ReadOnlySpan<byte> frame, out long sequence)
    {
        sequence = 0;
        if (frame.Length != 8)
        {
            return false;
        }

        sequence = BinaryPrimitives.ReadInt64BigEndian(frame);
        return true;
    }
}
