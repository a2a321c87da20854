using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using PdApp.Protocol;
using PdApp.Simulator.Configuration;
using PdApp.Simulator.Engine;
using PdApp.Simulator.Faults;
using PdApp.Simulator.Generation;
using PdApp.Simulator.KvTransfer;
using PdApp.Simulator.Metrics;

namespace PdApp.Simulator.Api;

/// <summary>
/// <c>POST /v1/completions</c> and <c>POST /v1/chat/completions</c>, following vLLM's
/// serving_completion.py / serving_chat.py: validate, check the model and the context length, run
/// the engine, answer JSON or a server-sent event stream.
/// </summary>
internal sealed partial class CompletionEndpoint(
    SimulatorOptions options,
    CompletionRequestParser parser,
    CompletionEngine engine,
    FailureInjector failures,
    SimulatorMetrics metrics,
    TimeProvider time,
    ILogger<CompletionEndpoint> logger)
{
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    /// <summary>Handles one request.</summary>
    public async Task HandleAsync(HttpContext context, CompletionKind kind)
    {
        var arrival = time.GetTimestamp();
        var cancellationToken = context.RequestAborted;
        var response = context.Response;
        CompletionRequest request;
        try
        {
            JsonNode? body;
            try
            {
                body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (JsonException ex)
            {
                throw new RequestValidationException($"JSON decode error: {ex.Message}");
            }

            request = parser.Parse(body, kind);
            CheckModel(request.Model);
            CheckLength(request);
        }
        catch (RequestValidationException ex)
        {
            await OpenAiErrorWriter.WriteAsync(response, ex.StatusCode, ex.Type, ex.Message, ex.Param, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (failures.Next(request.Model) is { } failure)
        {
            metrics.FailureInjected();
            await OpenAiErrorWriter.WriteAsync(response, failure.StatusCode, failure.Type, failure.Message, failure.Param, cancellationToken).ConfigureAwait(false);
            return;
        }

        // vLLM names requests after X-Request-Id when the client sends one (OpenAIServing._base_request_id).
        var requestId = context.Request.Headers[PdHeaders.RequestId].ToString() is { Length: > 0 } header ? header : Guid.NewGuid().ToString("N");
        response.Headers[PdHeaders.RequestId] = requestId;
        var promptTokenIds = request.PromptTokenIds;
        var job = new CompletionJob
        {
            Kv = new KvRequest(requestId, promptTokenIds, request.KvTransferParams),
            MaxTokens = request.MaxTokens,
            ContextRoom = options.MaxModelLen - promptTokenIds.Length,
            Stop = request.Stop,
            ContextText = request.PromptText,
            Seed = request.Seed is { } seed ? (ulong)seed : 0,
            ArrivalTimestamp = arrival,
        };
        var format = new CompletionResponseFormat(
            kind,
            (kind == CompletionKind.Chat ? "chatcmpl-" : "cmpl-") + requestId,
            request.Model ?? options.PrimaryModelName,
            time.GetUtcNow().ToUnixTimeSeconds());

        if (request.Stream)
        {
            await StreamAsync(context, job, format, kind, request.IncludeUsage).ConfigureAwait(false);
        }
        else
        {
            await RespondAsync(context, job, format).ConfigureAwait(false);
        }
    }

    private async Task StreamAsync(HttpContext context, CompletionJob job, CompletionResponseFormat format, CompletionKind kind, bool includeUsage)
    {
        var cancellationToken = context.RequestAborted;
        var sink = new StreamingCompletionSink(context.Response, format, kind);
        try
        {
            var result = await engine.RunAsync(job, sink, cancellationToken).ConfigureAwait(false);
            await sink.CompleteAsync(result, includeUsage, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The client went away (aborted request, or the response pipe completed under us).
            LogClientGone(job.Kv.RequestId);
        }
        catch (InjectedStreamFaultException ex) when (ex.DropConnection)
        {
            LogInjectedFault(job.Kv.RequestId, ex.Message);
            context.Abort();
        }
        catch (InjectedStreamFaultException ex)
        {
            LogInjectedFault(job.Kv.RequestId, ex.Message);
            if (sink.Started)
            {
                await OpenAiErrorWriter.WriteSseAsync(context.Response, StatusCodes.Status500InternalServerError, OpenAiErrorTypes.Server, ex.Message, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await OpenAiErrorWriter.WriteAsync(context.Response, StatusCodes.Status500InternalServerError, OpenAiErrorTypes.Server, ex.Message, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task RespondAsync(HttpContext context, CompletionJob job, CompletionResponseFormat format)
    {
        var cancellationToken = context.RequestAborted;
        var sink = new CollectingCompletionSink(context.Response);
        CompletionResult result;
        try
        {
            result = await engine.RunAsync(job, sink, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The client went away (aborted request, or the response pipe completed under us).
            LogClientGone(job.Kv.RequestId);
            return;
        }
        catch (InjectedStreamFaultException ex) when (ex.DropConnection)
        {
            LogInjectedFault(job.Kv.RequestId, ex.Message);
            context.Abort();
            return;
        }
        catch (InjectedStreamFaultException ex)
        {
            LogInjectedFault(job.Kv.RequestId, ex.Message);
            await OpenAiErrorWriter.WriteAsync(context.Response, StatusCodes.Status500InternalServerError, OpenAiErrorTypes.Server, ex.Message, cancellationToken: cancellationToken).ConfigureAwait(false);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        await using (var writer = new Utf8JsonWriter(context.Response.BodyWriter, WriterOptions))
        {
            format.WriteResponse(writer, result, sink.Text);
        }

        await context.Response.BodyWriter.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private void CheckModel(string? model)
    {
        if (model is null || model == options.Model || options.ServedModelNames.Contains(model))
        {
            return;
        }

        // vLLM: OpenAIServing._check_model.
        throw new RequestValidationException($"The model `{model}` does not exist.", "model", StatusCodes.Status404NotFound, OpenAiErrorTypes.NotFound);
    }

    private void CheckLength(CompletionRequest request)
    {
        // vLLM: OpenAIServing._validate_input.
        var inputTokens = request.PromptTokenIds.Length;
        var maxModelLen = options.MaxModelLen;
        if (inputTokens == 0)
        {
            // vLLM: "The decoder prompt cannot be empty" (processor._validate_model_input).
            throw new RequestValidationException("The decoder prompt cannot be empty", request.Kind == CompletionKind.Chat ? "messages" : "prompt");
        }

        if (inputTokens >= maxModelLen)
        {
            throw new RequestValidationException(
                $"This model's maximum context length is {maxModelLen} tokens. However, your request has {inputTokens} input tokens. Please reduce the length of the input messages.",
                request.Kind == CompletionKind.Chat ? "messages" : "prompt");
        }

        // In long: max_tokens near int.MaxValue must not wrap around and pass (vLLM answers 400).
        if (request.MaxTokens is { } maxTokens && (long)inputTokens + maxTokens > maxModelLen)
        {
            throw new RequestValidationException(
                $"'max_tokens' or 'max_completion_tokens' is too large: {maxTokens}. This model's maximum context length is {maxModelLen} tokens and your request has {inputTokens} input tokens ({maxTokens} > {maxModelLen} - {inputTokens}).",
                "max_tokens");
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Request {RequestId} aborted by the client")]
    private partial void LogClientGone(string requestId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Injected fault on {RequestId}: {Fault}")]
    private partial void LogInjectedFault(string requestId, string fault);
}
