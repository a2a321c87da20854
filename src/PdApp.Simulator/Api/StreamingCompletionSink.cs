using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using PdApp.Protocol;
using PdApp.Simulator.Engine;

namespace PdApp.Simulator.Api;

/// <summary>
/// Writes a completion as server-sent events, flushing every chunk (never buffered). Headers go out
/// with the first chunk, once prefill is over and the KV outcome is known; chat streams open with a
/// role delta, as vLLM's serving_chat does.
/// </summary>
internal sealed class StreamingCompletionSink(HttpResponse response, CompletionResponseFormat format, CompletionKind kind) : ICompletionSink
{
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };
    private readonly PipeWriter _pipe = response.BodyWriter;
    private Utf8JsonWriter? _writer;

    /// <summary>Whether any byte of the stream was sent.</summary>
    public bool Started { get; private set; }

    /// <inheritdoc />
    public async ValueTask BeginAsync(string kvOutcome, CancellationToken cancellationToken)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = SseFormat.ContentType;
        response.Headers.CacheControl = "no-cache";
        response.Headers[PdHeaders.SimulatorKvTransfer] = kvOutcome;
        Started = true;
        if (kind == CompletionKind.Chat)
        {
            format.WriteChunk(BeginEvent(), string.Empty, withRole: true, null, null);
            await EndEventAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await response.StartAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public ValueTask WriteTokenAsync(string delta, string? finishReason, string? stopReason, CancellationToken cancellationToken)
    {
        if (delta.Length == 0 && finishReason is null)
        {
            return ValueTask.CompletedTask;
        }

        format.WriteChunk(BeginEvent(), delta, withRole: false, finishReason, stopReason);
        return EndEventAsync(cancellationToken);
    }

    /// <summary>Writes the usage chunk (when asked for) and <c>data: [DONE]</c>.</summary>
    public async ValueTask CompleteAsync(CompletionResult result, bool includeUsage, CancellationToken cancellationToken)
    {
        if (includeUsage)
        {
            format.WriteUsageChunk(BeginEvent(), result.PromptTokens, result.CompletionTokens);
            await EndEventAsync(cancellationToken).ConfigureAwait(false);
        }

        await _pipe.WriteAsync(SseFormat.DoneEvent, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Starts an event: writes <c>data: </c> and returns the (reused) JSON writer over the pipe.</summary>
    private Utf8JsonWriter BeginEvent()
    {
        _pipe.Write(SseFormat.DataPrefix.Span);
        if (_writer is null)
        {
            _writer = new Utf8JsonWriter(_pipe, WriterOptions);
        }
        else
        {
            _writer.Reset(_pipe);
        }

        return _writer;
    }

    /// <summary>Ends the event and flushes it to the client.</summary>
    private async ValueTask EndEventAsync(CancellationToken cancellationToken)
    {
        _writer!.Flush();
        _pipe.Write(SseFormat.EventTerminator.Span);
        var flush = await _pipe.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (flush.IsCanceled || flush.IsCompleted)
        {
            throw new OperationCanceledException("The client stopped reading the stream.", cancellationToken);
        }
    }
}
