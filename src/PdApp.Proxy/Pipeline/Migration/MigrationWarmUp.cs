using System.Buffers;
using Microsoft.Extensions.Options;
using PdApp.Proxy.Pipeline.Options;
using PdApp.Proxy.Pipeline.Requests;
using PdApp.Proxy.Routing;

namespace PdApp.Proxy.Pipeline.Migration;

/// <summary>
/// Rehearses a move's data path once, on synthetic requests and nothing else (no
/// instance is called): the continuation's body (<see cref="ContinuationBody"/>, which goes through
/// <c>System.Text.Json.Nodes</c>, used nowhere else on the request path), its parse, a chunk's facts and
/// the continuation's event rewrite, for completions and chat, and one exception's stack trace
/// formatted (the failed requests' logs format theirs). A process's first migration comes when
/// a decode dies, for all of that decode's streams in the same instant: without the rehearsal the first
/// few moves compile that code while the thread pool's other threads, and so the other streams'
/// failures, wait behind them (RESULTS.md 5.5). Off when migration is (<c>MaxAttempts</c> 0). It runs at
/// start-up where two or more decode instances are known, or else once a second one joins (discovery,
/// the admin API): with one decode instance no request can move, and the process does not load the
/// code and the symbol readers the rehearsal would.
/// </summary>
internal sealed class MigrationWarmUp(IOptions<ProxyOptions> options, InstanceRegistry registry, ILogger<MigrationWarmUp> logger) : IHostedService
{
    private static readonly (OpenAiRoute Route, byte[] Body, byte[] Chunk)[] Rehearsals =
    [
        (OpenAiRoute.Completions,
            """{"model":"warm-up","prompt":"Warm up","max_tokens":4,"min_tokens":1,"stream":true,"stream_options":{"include_usage":true}}"""u8.ToArray(),
            """{"id":"cmpl-warm-up","object":"text_completion","created":1,"model":"warm-up","choices":[{"index":0,"text":" once","logprobs":null,"finish_reason":null}]}"""u8.ToArray()),
        (OpenAiRoute.ChatCompletions,
            """{"model":"warm-up","messages":[{"role":"user","content":"Warm up"}],"max_completion_tokens":4,"stream":true}"""u8.ToArray(),
            """{"id":"chatcmpl-warm-up","object":"chat.completion.chunk","created":1,"model":"warm-up","choices":[{"index":0,"delta":{"role":"assistant","content":" once"},"logprobs":null,"finish_reason":null}]}"""u8.ToArray()),
    ];

    private int _started;

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.Migration.MaxAttempts <= 0)
        {
            return Task.CompletedTask;
        }

        // Subscribed before the count is read, so a second decode instance added in between is not missed.
        registry.Changed += OnRegistryChanged;
        if (MigrationEligibility.HasSomewhereToMove(registry))
        {
            registry.Changed -= OnRegistryChanged;
            WarmUp();
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken)
    {
        registry.Changed -= OnRegistryChanged;
        return Task.CompletedTask;
    }

    /// <summary>The compilation of the move path (<see cref="MovePathPrecompiler"/>): how many methods it prepared, 0 when off, not yet started or failed.</summary>
    internal Task<int> Precompiled { get; private set; } = Task.FromResult(0);

    /// <summary>Whether the rehearsal ran (or is running).</summary>
    internal bool Started => Volatile.Read(ref _started) != 0;

    // On the registry writer's thread: the check is quick, and the rehearsal runs on the thread pool.
    private void OnRegistryChanged()
    {
        if (MigrationEligibility.HasSomewhereToMove(registry))
        {
            registry.Changed -= OnRegistryChanged;
            _ = Task.Run(WarmUp, CancellationToken.None);
        }
    }

    private void WarmUp()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            return;
        }

        try
        {
            foreach (var (route, body, chunk) in Rehearsals)
            {
                Rehearse(route, body, chunk);
            }

            FormatOneStackTrace();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Only a warm-up: a failure here costs the first move its speed, not its correctness.
            ProxyLog.MigrationWarmUpFailed(logger, ex);
        }

        // The rest of the move's code is compiled off the start-up path (a few hundred methods at the
        // first tier, ~0.1 s of one thread), so the proxy listens as soon as before.
        Precompiled = Task.Run(PrecompileMovePath, CancellationToken.None);
    }

    private int PrecompileMovePath()
    {
        try
        {
            return MovePathPrecompiler.Run().Count;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            ProxyLog.MigrationWarmUpFailed(logger, ex);
            return 0;
        }
    }

    // A decode's death also fails the requests that were still waiting for its answer, and their failure is
    // logged (and added to HttpClient's activity) with its stack trace: the process's first formatted stack
    // trace loads the symbol readers (System.Reflection.Metadata, the PDBs), tens of ms of one pool thread
    // in the same instant as the moves (RESULTS.md 5.5). Formatting one here moves that cost to start-up.
    private static void FormatOneStackTrace()
    {
        try
        {
            throw new IOException("The migration warm-up's exception.");
        }
        catch (IOException ex)
        {
            _ = ex.ToString();
        }
    }

    /// <summary>One move's data path for <paramref name="body"/>, its first chunk being <paramref name="chunk"/>.</summary>
    /// <param name="route">The request's route.</param>
    /// <param name="body">The client's request body.</param>
    /// <param name="chunk">The decode's first event's payload.</param>
    /// <returns>The continuation's body.</returns>
    internal static byte[] Rehearse(OpenAiRoute route, byte[] body, byte[] chunk)
    {
        if (!CompletionRequestParser.TryParse(route, body, servedModel: null, out var request, out _))
        {
            throw new InvalidOperationException("The migration warm-up's request did not parse.");
        }

        using (request)
        {
            var progress = new StreamProgress();
            var text = new ArrayBufferWriter<byte>(64);
            var facts = ChunkFacts.Read(chunk, text) ?? throw new InvalidOperationException("The migration warm-up's chunk did not read.");
            progress.Identify(facts.Id, facts.Created);
            progress.AddContent(text.WrittenSpan, facts.IsRole, facts.Finished);

            var continuation = ContinuationBody.Create(request!, progress);
            if (!CompletionRequestParser.TryParse(route, continuation, servedModel: null, out var parsed, out _))
            {
                throw new InvalidOperationException("The migration warm-up's continuation did not parse.");
            }

            parsed!.Dispose();
            _ = new ContinuationEventRewriter(progress.Tokens, originalPromptTokens: null).Rewrite(chunk, facts, progress);
            return continuation;
        }
    }
}
