namespace PdApp.Simulator.Scheduling;

/// <summary>
/// A sequence holding a running slot and its KV blocks. Grows by a block whenever its length crosses a
/// block boundary; disposing it (finish, abort, client gone) frees everything at once.
/// </summary>
internal sealed class RunningSequence : IDisposable
{
    private readonly EngineScheduler _scheduler;
    private int _tokens;
    private long _blocks;
    private int _disposed;

    internal RunningSequence(EngineScheduler scheduler, int promptTokens, long blocks)
    {
        _scheduler = scheduler;
        _tokens = promptTokens;
        _blocks = blocks;
    }

    /// <summary>Accounts for one generated token.</summary>
    public void AppendToken()
    {
        _tokens++;
        var needed = _scheduler.BlocksFor(_tokens);
        if (needed > _blocks)
        {
            _scheduler.GrowBy(needed - _blocks);
            _blocks = needed;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _scheduler.Finish(_blocks);
        }
    }
}
