using System.Text;
using Microsoft.AspNetCore.Http;
using PdApp.Protocol;
using PdApp.Simulator.Engine;

namespace PdApp.Simulator.Api;

/// <summary>Collects the output of a non-streaming request for one JSON response.</summary>
internal sealed class CollectingCompletionSink(HttpResponse response) : ICompletionSink
{
    private readonly StringBuilder _text = new();

    /// <summary>The generated text.</summary>
    public string Text => _text.ToString();

    /// <inheritdoc />
    public ValueTask BeginAsync(string kvOutcome, CancellationToken cancellationToken)
    {
        response.Headers[PdHeaders.SimulatorKvTransfer] = kvOutcome;
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask WriteTokenAsync(string delta, string? finishReason, string? stopReason, CancellationToken cancellationToken)
    {
        _text.Append(delta);
        return ValueTask.CompletedTask;
    }
}
