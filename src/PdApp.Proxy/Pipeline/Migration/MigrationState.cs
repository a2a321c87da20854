using System.Text.Json;
using PdApp.Proxy.Routing;

namespace PdApp.Proxy.Pipeline.Migration;

/// <summary>
/// Request migration's state for one client request: whether it may move at all, how often it
/// moved, the decode instances that failed it, the client's stream so far, and the original
/// prompt's token count (from P's usage) for the final usage.
/// </summary>
public sealed class MigrationState
{
    private ReadOnlyMemory<byte> _prefillResponse;
    private int? _promptTokens;
    private bool _promptTokensRead;

    /// <summary>Creates the state.</summary>
    /// <param name="maxAttempts"><c>Pd:Proxy:Migration:MaxAttempts</c>.</param>
    /// <param name="refusal">Why the request can never move (<see cref="MigrationEligibility"/>), or null.</param>
    /// <param name="reproducible">Whether sampling is greedy or seeded (a continuation then equals an unfaulted run).</param>
    public MigrationState(int maxAttempts, string? refusal, bool reproducible)
    {
        MaxAttempts = maxAttempts;
        Refusal = maxAttempts == 0 ? MigrationReasons.Disabled : refusal;
        Reproducible = reproducible;
    }

    /// <summary>The most moves allowed.</summary>
    public int MaxAttempts { get; }

    /// <summary>Why the request can never move, or null.</summary>
    public string? Refusal { get; }

    /// <summary>Whether a continuation reproduces the unfaulted text (greedy or seeded sampling).</summary>
    public bool Reproducible { get; }

    /// <summary>Moves made so far.</summary>
    public int Attempts { get; private set; }

    /// <summary>The client's stream so far; null when the request may not move (its decodes fail in-band at once).</summary>
    public StreamProgress? Progress => Refusal is null ? field ??= new StreamProgress() : null;

    /// <summary>Decode instances that failed this request (not chosen again for it).</summary>
    public HashSet<UpstreamInstance> FailedDecodes { get; } = [];

    /// <summary>The original prompt's token count from P's usage, when a prefill answered with one.</summary>
    public int? OriginalPromptTokens
    {
        get
        {
            if (!_promptTokensRead)
            {
                _promptTokensRead = true;
                _promptTokens = ReadPromptTokens(_prefillResponse);
            }

            return _promptTokens;
        }
    }

    /// <summary>Why the request cannot move now, or null when it may.</summary>
    /// <returns>A <see cref="MigrationReasons"/> value, or null.</returns>
    public string? RefusalNow() => Refusal ?? (Attempts >= MaxAttempts ? MigrationReasons.LimitReached : null);

    /// <summary>Counts a move.</summary>
    public void CountAttempt() => Attempts++;

    /// <summary>Keeps the first prefill's response (read only if the request moves).</summary>
    /// <param name="body">P's response body.</param>
    public void RememberPrefill(ReadOnlyMemory<byte> body)
    {
        if (_prefillResponse.IsEmpty)
        {
            _prefillResponse = body;
        }
    }

    private static int? ReadPromptTokens(ReadOnlyMemory<byte> body)
    {
        if (body.IsEmpty)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object
                && usage.TryGetProperty("prompt_tokens", out var tokens) && tokens.TryGetInt32(out var count)
                ? count
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
