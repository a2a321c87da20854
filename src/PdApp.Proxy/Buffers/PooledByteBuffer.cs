using System.Buffers;

namespace PdApp.Proxy.Buffers;

/// <summary>
/// A growable byte buffer over <see cref="ArrayPool{T}.Shared"/> for per-stream relays and scrapes: a
/// stream's buffers go back to the pool when it ends instead of becoming garbage, so thousands of
/// concurrent streams do not each allocate their own. Not thread-safe; one owner.
/// </summary>
internal sealed class PooledByteBuffer : IBufferWriter<byte>, IDisposable
{
    private byte[] _array;
    private int _written;
    private bool _disposed;

    /// <summary>Rents the first array.</summary>
    /// <param name="initialCapacity">The smallest first array.</param>
    public PooledByteBuffer(int initialCapacity) => _array = ArrayPool<byte>.Shared.Rent(initialCapacity);

    /// <summary>The bytes written.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _array.AsSpan(0, _written);

    /// <summary>The bytes written.</summary>
    public ReadOnlyMemory<byte> WrittenMemory => _array.AsMemory(0, _written);

    /// <summary>The number of bytes written.</summary>
    public int WrittenCount => _written;

    /// <inheritdoc />
    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count > _array.Length - _written)
        {
            throw new InvalidOperationException("Advanced past the buffer's end.");
        }

        _written += count;
    }

    /// <inheritdoc />
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsMemory(_written);
    }

    /// <inheritdoc />
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsSpan(_written);
    }

    /// <summary>Forgets what was written; keeps the array.</summary>
    public void Clear() => _written = 0;

    /// <summary>Drops the first <paramref name="count"/> bytes written, keeping the rest at the start.</summary>
    /// <param name="count">How many bytes to drop.</param>
    public void DiscardFront(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _written);
        _array.AsSpan(count, _written - count).CopyTo(_array);
        _written -= count;
    }

    /// <summary>Returns the array to the pool; the buffer must not be used again.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        var array = _array;
        _array = [];
        _written = 0;
        ArrayPool<byte>.Shared.Return(array);
    }

    private void Ensure(int sizeHint)
    {
        var needed = Math.Max(sizeHint, 1);
        if (_array.Length - _written >= needed)
        {
            return;
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        var larger = ArrayPool<byte>.Shared.Rent(checked(Math.Max(_array.Length * 2, _written + needed)));
        _array.AsSpan(0, _written).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_array);
        _array = larger;
    }
}
