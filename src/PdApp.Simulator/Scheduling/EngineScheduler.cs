using PdApp.Simulator.Configuration;

namespace PdApp.Simulator.Scheduling;

/// <summary>
/// The admission side of vLLM's scheduler: at most <c>--max-num-seqs</c> sequences run, each holding
/// KV blocks for its prompt and its output so far; the rest wait first-come first-served until a
/// sequence finishes and frees its slot and blocks. KV pinned for a transfer (NIXL) holds blocks too.
/// Lock-based and allocation-light: one lock, one queue node per waiting request.
/// </summary>
internal sealed class EngineScheduler
{
    private readonly object _gate = new();
    private readonly LinkedList<Waiter> _waiting = new();
    private readonly int _maxRunning;
    private readonly int _blockSize;
    private int _running;
    private long _usedBlocks;

    /// <summary>Creates the scheduler.</summary>
    public EngineScheduler(SimulatorOptions options)
    {
        _maxRunning = options.Timing.MaxNumSeqs;
        _blockSize = options.BlockSize;
        TotalBlocks = options.Timing.KvCacheSizeBlocks;
    }

    /// <summary>KV capacity in blocks.</summary>
    public long TotalBlocks { get; }

    /// <summary>Tokens per block.</summary>
    public int BlockSize => _blockSize;

    /// <summary>Sequences running now (<c>vllm:num_requests_running</c>).</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>Requests waiting for a slot (<c>vllm:num_requests_waiting</c>).</summary>
    public int Waiting
    {
        get
        {
            lock (_gate)
            {
                return _waiting.Count;
            }
        }
    }

    /// <summary>Fraction of KV blocks in use, 0-1 (<c>vllm:kv_cache_usage_perc</c>).</summary>
    public double KvUsage => Math.Min(1.0, Interlocked.Read(ref _usedBlocks) / (double)TotalBlocks);

    /// <summary>Blocks needed for <paramref name="tokens"/> tokens.</summary>
    public long BlocksFor(int tokens) => (tokens + _blockSize - 1) / _blockSize;

    /// <summary>Waits for a running slot and the prompt's blocks.</summary>
    /// <param name="promptTokens">Prompt length; its blocks are reserved on admission.</param>
    /// <param name="cancellationToken">Cancels the wait (client gone): the request leaves the queue.</param>
    /// <returns>The running sequence; dispose it to free its slot and blocks.</returns>
    public ValueTask<RunningSequence> AdmitAsync(int promptTokens, CancellationToken cancellationToken)
    {
        var blocks = BlocksFor(Math.Max(1, promptTokens));
        Waiter waiter;
        lock (_gate)
        {
            if (_waiting.Count == 0 && CanAdmit(blocks))
            {
                Admit(blocks);
                return ValueTask.FromResult(new RunningSequence(this, promptTokens, blocks));
            }

            waiter = new Waiter(blocks, promptTokens);
            waiter.Node = _waiting.AddLast(waiter);
        }

        return new ValueTask<RunningSequence>(WaitAsync(waiter, cancellationToken));
    }

    /// <summary>Reserves blocks outside any sequence (KV pinned for a NIXL transfer).</summary>
    /// <returns>A handle that frees them once, on dispose.</returns>
    public IDisposable Pin(int tokens)
    {
        var blocks = BlocksFor(tokens);
        Interlocked.Add(ref _usedBlocks, blocks);
        return new PinnedBlocks(this, blocks);
    }

    /// <summary>Adds a block when a sequence's output crosses a block boundary.</summary>
    internal void GrowBy(long blocks) => Interlocked.Add(ref _usedBlocks, blocks);

    /// <summary>Frees a finished sequence's slot and blocks and admits waiters that now fit.</summary>
    internal void Finish(long blocks)
    {
        Interlocked.Add(ref _usedBlocks, -blocks);
        lock (_gate)
        {
            _running--;
            AdmitWaiters();
        }
    }

    /// <summary>Frees pinned blocks and admits waiters that now fit.</summary>
    internal void Unpin(long blocks)
    {
        Interlocked.Add(ref _usedBlocks, -blocks);
        lock (_gate)
        {
            AdmitWaiters();
        }
    }

    private async Task<RunningSequence> WaitAsync(Waiter waiter, CancellationToken cancellationToken)
    {
        using (cancellationToken.UnsafeRegister(static state => ((Waiter)state!).Cancel(), waiter))
        {
            try
            {
                await waiter.Completion.Task.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                lock (_gate)
                {
                    // Cancelled while queued: leave the queue (AdmitWaiters skips cancelled waiters it meets first).
                    if (waiter.Node?.List is not null)
                    {
                        _waiting.Remove(waiter.Node);
                        waiter.Node = null;
                    }
                }

                throw new OperationCanceledException(cancellationToken);
            }
        }

        return new RunningSequence(this, waiter.PromptTokens, waiter.Blocks);
    }

    private bool CanAdmit(long blocks) =>
        _running < _maxRunning
        // A prompt larger than the whole cache still runs when nothing else does, rather than hang.
        && (Interlocked.Read(ref _usedBlocks) + blocks <= TotalBlocks || _running == 0);

    private void Admit(long blocks)
    {
        _running++;
        Interlocked.Add(ref _usedBlocks, blocks);
    }

    private void AdmitWaiters()
    {
        while (_waiting.First is { } first && CanAdmit(first.Value.Blocks))
        {
            var waiter = first.Value;
            _waiting.RemoveFirst();
            waiter.Node = null;
            if (waiter.Completion.TrySetResult())
            {
                Admit(waiter.Blocks);
            }
        }
    }

    private sealed class Waiter(long blocks, int promptTokens)
    {
        public long Blocks { get; } = blocks;

        public int PromptTokens { get; } = promptTokens;

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public LinkedListNode<Waiter>? Node { get; set; }

        public void Cancel() => Completion.TrySetCanceled();
    }

    private sealed class PinnedBlocks(EngineScheduler scheduler, long blocks) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                scheduler.Unpin(blocks);
            }
        }
    }
}
